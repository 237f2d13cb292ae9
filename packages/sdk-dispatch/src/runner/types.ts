import type { StoredResult } from '@vespid/protocol';
import type { EventListener } from '@vespid/protocol';
import type { BlockInput, BlockResult, ContinuationRunnerEvents, ResultSource } from './options.js';

/**
 * Lifecycle state of a runner.
 *
 * @example
 * ```ts
 * if (runner.state === 'running') await runner.block(input);
 * ```
 */
export type RunnerState = 'idle' | 'running' | 'closing' | 'closed';

/**
 * Parks runs on blocked cursors and resumes each exactly once.
 *
 * @example
 * ```ts
 * const runner = createContinuationRunner({ client, store, onResult });
 * runner.on('dispatched', ({ cursor, agentId }) => log.info({ requestId: cursor.requestId, agentId }, 'assigned'));
 * await runner.start();
 * const { state } = await runner.block({ organizationId, runId, nodeId, attempt: 0, kind: 'connector.action', payload });
 * await runner.close({ timeoutMs: 10_000 });
 * ```
 */
export interface ContinuationRunner {
  /** Starts the queue consumer, the push subscription and the sweeper (which resumes cursors left by a previous process). */
  start(): Promise<void>;
  /** Persists a blocked cursor, dispatches the node and returns; the result later reaches `onResult` exactly once. */
  block(input: BlockInput): Promise<BlockResult>;
  /** Applies a result obtained elsewhere; `true` if it was this call that applied it. */
  deliver(result: StoredResult, source?: ResultSource): Promise<boolean>;
  /** Ensures every blocked cursor has a continuation; `promote` checks them all now. Returns how many it saw. */
  sweep(options?: { promote?: boolean }): Promise<number>;
  readonly state: RunnerState;
  readonly closed: boolean;
  /**
   * Observes the runner (`queued`, `dispatched`, `applied`); returns a function that removes the
   * listener. A listener that throws or rejects is logged; `close()` waits for async listeners.
   */
  on<K extends keyof ContinuationRunnerEvents>(event: K, listener: EventListener<ContinuationRunnerEvents[K]>): () => void;
  off<K extends keyof ContinuationRunnerEvents>(event: K, listener: EventListener<ContinuationRunnerEvents[K]>): void;
  /** Stops push, sweeper and queue (waiting up to `timeoutMs` for running steps). Does not close the client or store. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
