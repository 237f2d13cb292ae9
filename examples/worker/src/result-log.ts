/**
 * The worker's one info line per remote node result: which agent ran it, how long it took from
 * dispatch to result, and the outcome. Written after the result is committed, so a line means the
 * run really moved on. Never the output, error message or secret: those may carry customer data.
 */
import type { Logger } from '@vespid/protocol';
import type { BlockedCursor, ContinuationResult } from '@vespid/sdk-dispatch';
import type { Pool } from '@vespid/example-db';

/**
 * Logs `node result` for a committed result, with the agent's name looked up in
 * `organization_agents` (best effort: the id alone when the lookup fails).
 *
 * @example
 * ```ts
 * runner.on('applied', ({ cursor, result }) => logNodeResult({ pool, logger }, cursor, result));
 * ```
 */
export async function logNodeResult(
  deps: { pool: Pool; logger: Logger },
  cursor: BlockedCursor,
  result: ContinuationResult,
): Promise<void> {
  let agent: string | undefined = result.agentName ?? result.agentId;
  // The gateway usually names the agent in the result; only an older one leaves a lookup to do.
  if (result.agentId && !result.agentName) {
    // id::text: an agent id from a custom authenticator need not be a uuid.
    const row = await deps.pool
      .query<{ name: string }>('SELECT name FROM organization_agents WHERE id::text = $1 AND organization_id = $2', [
        result.agentId,
        cursor.organizationId,
      ])
      .then((r) => r.rows[0])
      .catch(() => undefined);
    agent = row?.name ?? result.agentId;
  }
  const since = cursor.dispatchedAt ?? cursor.createdAt;
  deps.logger.info(
    {
      runId: cursor.runId,
      nodeId: cursor.nodeId,
      attempt: cursor.attempt,
      requestId: cursor.requestId,
      kind: cursor.request.kind,
      agentId: result.agentId,
      agent,
      status: result.status,
      ...(result.error?.code ? { code: result.error.code } : {}),
      source: result.source,
      durationMs: Math.max(0, result.completedAt - since),
    },
    'node result',
  );
}
