import type { ErrorInfo, Logger } from '@vespid/protocol';

/**
 * One task handed to an executor: an `execute` frame minus the secret.
 *
 * @example
 * ```ts
 * const { requestId, kind, payload, timeoutMs } = task;
 * ```
 */
export interface ExecutorTask {
  readonly requestId: string;
  readonly organizationId: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly timeoutMs: number;
}

/**
 * What the runtime gives an executor for one task.
 *
 * @example
 * ```ts
 * async execute(task, { signal, logger, secret }) { await fetch(url, { signal }); }
 * ```
 */
export interface ExecutorContext {
  /** Aborted on timeout, on a gateway `cancel` and on shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Logger bound to the request. Never log `secret`. */
  readonly logger: Logger;
  /** The decrypted secret for this request only, if the node has one. Keep it in memory only. */
  readonly secret?: string | undefined;
  /** Root directory under which the executor may create per-run work directories. */
  readonly workdir?: string | undefined;
  /** Epoch ms after which the task is considered timed out. */
  readonly deadline: number;
}

/**
 * The outcome of a task. A thrown error is turned into `{status: 'failed'}` by the runtime.
 *
 * @example
 * ```ts
 * return { status: 'failed', error: { code: 'INVALID_ACTION_INPUT', message: 'url: required' } };
 * ```
 */
export type ExecutorResult = { status: 'succeeded'; output?: unknown } | { status: 'failed'; error: ErrorInfo; output?: unknown };

/**
 * A plugin that runs one kind of task. Register it with `createAgent({ executors: [...] })`.
 *
 * @example
 * ```ts
 * const echo: Executor = {
 *   kind: 'echo',
 *   async execute(task) { return { status: 'succeeded', output: task.payload }; },
 * };
 * ```
 */
export interface Executor {
  /** The node kind this executor handles, e.g. `connector.action`. */
  readonly kind: string;
  /** Connector ids this executor can run, reported in `hello` (connector.action only). */
  readonly connectors?: readonly string[];
  /** Called once before the agent connects (e.g. to sweep orphaned containers). */
  start?(): Promise<void>;
  /** Runs one task. Must honour `ctx.signal` and must not block the event loop. */
  execute(task: ExecutorTask, ctx: ExecutorContext): Promise<ExecutorResult>;
  /** Called once when the agent closes. */
  close?(): Promise<void>;
}
