/** Test helpers shared by the worker's integration tests: a published workflow and a run, inserted directly. */
import type { Pool } from '@vespid/example-db';

/**
 * Inserts a workflow with `nodes`, its version 1 and a run of it; returns the run id. `ageMs` backdates
 * `updated_at` (a run a crashed worker left behind).
 */
export async function insertRun(
  pool: Pool,
  orgId: string,
  nodes: unknown[],
  options: { status?: 'queued' | 'running'; ageMs?: number } = {},
): Promise<string> {
  const dsl = { version: 1, trigger: { type: 'trigger.manual' }, nodes };
  const wf = await pool.query<{ id: string }>('INSERT INTO workflows (organization_id, name, dsl) VALUES ($1, $2, $3) RETURNING id', [
    orgId,
    'w',
    dsl,
  ]);
  const v = await pool.query<{ id: string }>(
    'INSERT INTO workflow_versions (workflow_id, organization_id, version, dsl) VALUES ($1, $2, 1, $3) RETURNING id',
    [wf.rows[0]!.id, orgId, dsl],
  );
  const r = await pool.query<{ id: string }>(
    `INSERT INTO workflow_runs (organization_id, workflow_id, version_id, status, updated_at)
     VALUES ($1, $2, $3, $4, now() - ($5::int * interval '1 millisecond')) RETURNING id`,
    [orgId, wf.rows[0]!.id, v.rows[0]!.id, options.status ?? 'queued', options.ageMs ?? 0],
  );
  return r.rows[0]!.id;
}
