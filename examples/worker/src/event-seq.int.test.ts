/**
 * Run events are numbered from `workflow_runs.last_event_seq`, bumped by the appending statement's
 * UPDATE under the run row's lock: an append that did not lock the run first (node_dispatched) and had
 * to wait for another transaction's lock still gets the next seq, not one that transaction took.
 */
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema, migrate } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { insertRun } from '../test/test-support.js';
import { appendEvent, appendEvents } from './events.js';

await describeWith(['postgres'], 'worker: run event seq', () => {
  const schema = uniquePrefix('wseq');
  let pool: Pool;
  let orgId = '';

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    ({ orgId } = await bootstrapOrganization(pool, { orgName: 's', email: `${schema}@s.test` }));
  });

  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  const events = async (runId: string) =>
    (
      await pool.query<{ seq: number; type: string }>('SELECT seq, type FROM workflow_run_events WHERE run_id = $1 ORDER BY seq', [runId])
    ).rows.map((r) => [r.seq, r.type]);

  it('an append that waited for the run lock takes the seq after the lock holder’s events', async () => {
    const runId = await insertRun(pool, orgId, [], { status: 'running' });
    // The api's first event, written without the counter: the worker's first append starts after it.
    await pool.query(`INSERT INTO workflow_run_events (run_id, organization_id, seq, type) VALUES ($1, $2, 1, 'run_queued')`, [
      runId,
      orgId,
    ]);
    const run = { id: runId, organization_id: orgId };
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      expect(await appendEvent(a, run, 'node_started', 'n1', { attempt: 0 }, { set: 'updated_at = now()' })).toBe(2);
      await b.query('BEGIN');
      const { rows } = await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const second = appendEvent(b, run, 'node_dispatched', 'n1', { attempt: 0 }, { where: `status = 'running'` });
      await waitFor(
        async () =>
          (
            await pool.query<{ wait_event_type: string | null }>('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [
              rows[0]!.pid,
            ])
          ).rows[0]?.wait_event_type === 'Lock',
        'the second append waiting for the run row lock',
      );
      await appendEvents(a, run, [
        { type: 'node_succeeded', nodeId: 'n1', payload: { attempt: 0 } },
        { type: 'node_started', nodeId: 'n2', payload: { attempt: 0 }, onceForAttempt: true },
      ]);
      await a.query('COMMIT');
      expect(await second).toBe(5);
      await b.query('COMMIT');
    } finally {
      a.release();
      b.release();
    }
    expect(await events(runId)).toEqual([
      [1, 'run_queued'],
      [2, 'node_started'],
      [3, 'node_succeeded'],
      [4, 'node_started'],
      [5, 'node_dispatched'],
    ]);
  });

  it('appends nothing when the run condition does not hold', async () => {
    const runId = await insertRun(pool, orgId, [], { status: 'queued' });
    const run = { id: runId, organization_id: orgId };
    const c = await pool.connect();
    try {
      expect(await appendEvent(c, run, 'node_dispatched', 'n1', { attempt: 0 }, { where: `status = 'running'` })).toBeUndefined();
      expect(
        await appendEvents(c, run, [{ type: 'node_succeeded', nodeId: 'n1', payload: { attempt: 0 } }], {
          set: () => 'updated_at = now()',
          where: () => `status = 'blocked'`,
        }),
      ).toBe(0);
    } finally {
      c.release();
    }
    expect(await events(runId)).toEqual([]);
  });
});
