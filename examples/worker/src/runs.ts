import type { Pool, PoolClient } from '@vespid/example-db';

/** The columns of `workflow_runs` the worker reads, plus the published DSL. */
export interface RunRow {
  id: string;
  organization_id: string;
  workflow_id: string;
  status: 'queued' | 'running' | 'blocked' | 'succeeded' | 'failed';
  cursor_node_index: number;
  blocked_request_id: string | null;
  attempt: number;
  /** The published version the run executes (immutable: its parsed DSL can be cached by this id). */
  version_id: string;
  /** The version's DSL; null when the caller said it already holds this version (`knownVersionId`). */
  dsl: unknown;
}

/**
 * Locks and returns a run of the organization (tenant-scoped), or undefined. Neither the run's
 * `node_outputs` (they grow with every node) nor, when `knownVersionId` is the run's version, the
 * DSL are read: both were sent and JSON-parsed on every lock, twice per remote node. `'*'` leaves
 * the DSL out whatever the version (for callers that only look at the run's state).
 */
export async function lockRun(tx: PoolClient, runId: string, organizationId: string, knownVersionId?: string): Promise<RunRow | undefined> {
  const { rows } = await tx.query<RunRow>(
    `SELECT r.id, r.organization_id, r.workflow_id, r.status, r.cursor_node_index,
            r.blocked_request_id, r.attempt, r.version_id,
            CASE WHEN $3 = '*' OR r.version_id::text = $3 THEN NULL ELSE v.dsl END AS dsl
       FROM workflow_runs r JOIN workflow_versions v ON v.id = r.version_id AND v.organization_id = r.organization_id
      WHERE r.id = $1 AND r.organization_id = $2
      FOR UPDATE OF r`,
    [runId, organizationId, knownVersionId ?? null],
  );
  return rows[0];
}

/** The DSL of a published version (when a run was locked without it and the parsed copy is gone). */
export async function loadDsl(db: PoolClient, versionId: string): Promise<unknown> {
  const { rows } = await db.query<{ dsl: unknown }>('SELECT dsl FROM workflow_versions WHERE id = $1', [versionId]);
  return rows[0]?.dsl;
}

/** Runs one function in a transaction on its own client. */
export async function inTransaction<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const value = await fn(tx);
    await tx.query('COMMIT');
    return value;
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    tx.release();
  }
}

/** Runs left queued/running and not touched for `olderThanMs` (their worker died): candidates to resume. */
export async function findStalledRuns(
  pool: Pool,
  olderThanMs: number,
  limit = 100,
): Promise<Array<{ id: string; organization_id: string }>> {
  const { rows } = await pool.query<{ id: string; organization_id: string }>(
    `SELECT id, organization_id FROM workflow_runs
      WHERE status IN ('queued', 'running') AND updated_at < now() - ($1::int * interval '1 millisecond')
      ORDER BY updated_at LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows;
}
