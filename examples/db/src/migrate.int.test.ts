import { afterAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { dropSchema, listMigrations, migrate } from './migrate.js';
import { createPool } from './pool.js';

await describeWith(['postgres'], 'example-db migrations', () => {
  const schema = uniquePrefix('mig');
  const pool = createPool(DATABASE_URL, { schema });
  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('applies every migration once, also when several hosts migrate at the same time', async () => {
    const results = await Promise.all([migrate(pool, { schema }), migrate(pool, { schema }), migrate(pool, { schema })]);
    const all = results.flat();
    expect(all.sort()).toEqual(listMigrations().map((m) => m.version));
    expect(await migrate(pool, { schema })).toEqual([]);
    const tables = await pool.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'organizations',
        'organization_agents',
        'agent_pairing_tokens',
        'workflow_runs',
        'workflow_run_events',
        'connector_secrets',
      ]),
    );
  });

  it('refuses a second terminal event for the same node attempt', async () => {
    const org = (await pool.query<{ id: string }>("INSERT INTO organizations (name) VALUES ('o') RETURNING id")).rows[0]!.id;
    const wf = (
      await pool.query<{ id: string }>("INSERT INTO workflows (organization_id, name, dsl) VALUES ($1, 'w', '{}') RETURNING id", [org])
    ).rows[0]!.id;
    const v = (
      await pool.query<{ id: string }>(
        "INSERT INTO workflow_versions (workflow_id, organization_id, version, dsl) VALUES ($1, $2, 1, '{}') RETURNING id",
        [wf, org],
      )
    ).rows[0]!.id;
    const run = (
      await pool.query<{ id: string }>(
        "INSERT INTO workflow_runs (organization_id, workflow_id, version_id, status) VALUES ($1, $2, $3, 'running') RETURNING id",
        [org, wf, v],
      )
    ).rows[0]!.id;
    const insert = (seq: number) =>
      pool.query(
        "INSERT INTO workflow_run_events (run_id, organization_id, seq, type, node_id, payload) VALUES ($1, $2, $3, 'node_succeeded', 'n1', '{\"attempt\":0}')",
        [run, org, seq],
      );
    await insert(1);
    await expect(insert(2)).rejects.toThrow(/duplicate key/);
  });
});
