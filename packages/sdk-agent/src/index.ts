/**
 * `@vespid/sdk-agent` — the Vespid node-agent runtime.
 *
 * @packageDocumentation
 */
export type { Executor, ExecutorContext, ExecutorResult, ExecutorTask } from './executor.js';
