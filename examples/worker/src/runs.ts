import type { Pool, PoolClient } from '@vespid/example-db';

/** The columns of `workflow_runs` the worker reads, plus the published DSL. */
export interface RunRow {
  id: string;
  organization_id: string;
  workflow_id: string;
  status: 'queued' | 'running' | 'blocked' | 'succeeded' | 'failed';
  cursor_node_index: number;
  node_outputs: Record<string, unknown>;
  blocked_request_id: string | null;
  attempt: number;
  /** The published version the run executes (immutable: its parsed DSL can be cached by this id). */
  version_id: string;
  dsl: unknown;
}

/** Locks and returns a run of the organization (tenant-scoped), or undefined. */
export async function lockRun(tx: PoolClient, runId: string, organizationId: string): Promise<RunRow | undefined> {
  const { rows } = await tx.query<RunRow>(
    `SELECT r.id, r.organization_id, r.workflow_id, r.status, r.cursor_node_index, r.node_outputs,
            r.blocked_request_id, r.attempt, r.version_id, v.dsl
       FROM workflow_runs r JOIN workflow_versions v ON v.id = r.version_id AND v.organization_id = r.organization_id
      WHERE r.id = $1 AND r.organization_id = $2
      FOR UPDATE OF r`,
    [runId, organizationId],
  );
  return rows[0];
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
