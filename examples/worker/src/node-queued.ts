/**
 * `node_queued`: the gateway holds a remote node waiting for an eligible agent (the node carried
 * `queueTimeoutMs`, WORKFLOW_NODE_QUEUE_TIMEOUT_MS). The event carries the placement explanation —
 * agents in the org and what each filter excluded — so a user sees why the run waits.
 */
import type { PlacementExplanation } from '@vespid/protocol';
import type { BlockedCursor } from '@vespid/sdk-dispatch';
import type { Pool } from '@vespid/example-db';
import { appendEvent, hasNodeEvent } from './events.js';
import { inTransaction, lockRun } from './runs.js';

/**
 * Appends `node_queued` once per node attempt, and only while the run still waits on that request (a
 * result may already have been applied: an agent can take the request right after it was queued).
 */
export async function recordNodeQueued(
  pool: Pool,
  event: { cursor: BlockedCursor; position: number; explanation: PlacementExplanation },
): Promise<boolean> {
  const { cursor, position, explanation } = event;
  return inTransaction(pool, async (tx) => {
    const run = await lockRun(tx, cursor.runId, cursor.organizationId, '*');
    if (run?.status !== 'blocked' || run.blocked_request_id !== cursor.requestId) return false;
    if (await hasNodeEvent(tx, run.id, 'node_queued', cursor.nodeId, cursor.attempt)) return false;
    await appendEvent(tx, run, 'node_queued', cursor.nodeId, {
      requestId: cursor.requestId,
      attempt: cursor.attempt,
      position,
      explanation: { message: explanation.message, connected: explanation.connected, excluded: explanation.excluded },
    });
    return true;
  });
}
