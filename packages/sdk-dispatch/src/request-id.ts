import { RequestIdSchema, formatZodIssues } from '@vespid/protocol';
import { DispatchError } from './errors.js';

/**
 * The identity of one attempt of one node of one run.
 *
 * @example
 * ```ts
 * requestIdFor({ runId: 'r1', nodeId: 'fetch', attempt: 0 } satisfies NodeAttempt);
 * ```
 */
export interface NodeAttempt {
  runId: string;
  nodeId: string;
  attempt: number;
}

/**
 * The request id of a node attempt: `runId:nodeId:attempt`. Dispatching the same attempt twice reuses
 * the id, so the gateway answers from its cache or its in-flight entry instead of running it twice.
 *
 * @example
 * ```ts
 * requestIdFor({ runId: 'r1', nodeId: 'fetch', attempt: 0 }); // 'r1:fetch:0'
 * ```
 */
export function requestIdFor(node: NodeAttempt): string {
  if (!Number.isInteger(node.attempt) || node.attempt < 0) {
    throw new DispatchError('BAD_REQUEST', `attempt must be a non-negative integer, got ${String(node.attempt)}`);
  }
  const id = `${node.runId}:${node.nodeId}:${node.attempt}`;
  const parsed = RequestIdSchema.safeParse(id);
  if (!parsed.success) {
    throw new DispatchError('BAD_REQUEST', `runId/nodeId do not form a valid request id: ${formatZodIssues(parsed.error, { max: 1 })}`);
  }
  return id;
}

/**
 * A BullMQ-safe job id for a request id. BullMQ rejects custom ids containing `:` (its key separator),
 * and request ids never contain `~`, so replacing one by the other is reversible and collision-free.
 *
 * @example
 * ```ts
 * continuationJobId('r1:fetch:0'); // 'cont~r1~fetch~0'
 * ```
 */
export function continuationJobId(requestId: string): string {
  return `cont~${requestId.replaceAll(':', '~')}`;
}
