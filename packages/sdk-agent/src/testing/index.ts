/**
 * `@vespid/sdk-agent/testing` — helpers for testing executors and agents: the executor conformance
 * suite (vitest), a protocol-faithful fake gateway and a capturing logger for secret checks.
 *
 * @example
 * ```ts
 * import { executorConformance } from '@vespid/sdk-agent/testing';
 * executorConformance({ name: 'echo', create: () => echoExecutor, setup: () => ({ ok: { payload: 1 } }) });
 * ```
 *
 * @packageDocumentation
 */
export {
  executorConformance,
  capturingLogger,
  type ConformanceCases,
  type ExecutorConformanceOptions,
} from './executor-conformance.js';
export {
  createFakeAgentGateway,
  type FakeAgentGateway,
  type FakeAgentGatewayOptions,
  type FakeAgentGatewaySession,
  createFakeGateway,
  type FakeGateway,
  type FakeGatewayOptions,
  type FakeGatewaySession,
} from './fake-gateway.js';
