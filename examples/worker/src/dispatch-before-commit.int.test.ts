/**
 * A remote node whose attempt this worker's own transaction just started (`node_started` appended by
 * the run's step or by the previous node's result) is sent while its cursor is inserted; an attempt
 * some earlier processor started (a worker that died) is sent after its cursor committed, as before.
 * Every node still runs and succeeds once.
 */
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema, migrate } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { appendEvent } from './events.js';
import { type WorkerHost, startWorkerHost } from './host.js';
import { type PolledGateway, startPolledGateway } from '../test/polled-gateway.js';
import { insertRun } from '../test/test-support.js';

await describeWith(['postgres'], 'worker: dispatch before the cursor commits', () => {
  const schema = uniquePrefix('wdbc');
  let pool: Pool;
  let gateway: PolledGateway;
  let host: WorkerHost | undefined;
  let orgId = '';
  const dispatches = new Map<string, number>();

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    ({ orgId } = await bootstrapOrganization(pool, { orgName: 'd', email: `${schema}@d.test` }));
    // Stands in for the gateway: every dispatched request has its result at once (found by polling).
    gateway = await startPolledGateway({
      onDispatch: (id) => dispatches.set(id, (dispatches.get(id) ?? 0) + 1),
      result: (id) =>
        dispatches.has(id)
          ? { requestId: id, organizationId: orgId, status: 'succeeded', output: { ok: true }, completedAt: Date.now() }
          : null,
    });
  });

  afterAll(async () => {
    await host?.close();
    await gateway.close();
    await dropSchema(pool, schema);
    await pool.end();
  });

  const early: Record<string, boolean> = {};
  const node = (id: string) => ({
    id,
    type: 'connector.action',
    config: {
      connectorId: 'http',
      actionId: 'request',
      input: { method: 'GET', url: `https://example.test/${id}` },
      execution: { mode: 'node' },
    },
  });

  /** One worker for both cases; its runner records whether each block() may send before the commit. */
  async function startHost(): Promise<WorkerHost> {
    if (host) return host;
    host = await startWorkerHost({
      pool,
      env: {
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: gateway.url,
        GATEWAY_SERVICE_TOKEN: 'svc-token-for-dispatch-before-commit-test',
        GATEWAY_DISPATCH_CHANNEL: 'http',
        WORKFLOW_CONTINUATION_POLL_MS: '20',
      },
    });
    const runner = host.runner!;
    const block = runner.block.bind(runner);
    runner.block = (input) => {
      early[input.nodeId] = input.dispatchBeforeCommit === true;
      return block(input);
    };
    return host;
  }

  async function runToEnd(runId: string): Promise<void> {
    for (const k of Object.keys(early)) delete early[k];
    await (await startHost()).runQueue.enqueue({ runId, organizationId: orgId });
    await waitFor(async () => {
      const { rows } = await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
      return rows[0]?.status === 'succeeded';
    }, 'run succeeded');
    const { rows: events } = await pool.query<{ type: string; node_id: string | null }>(
      'SELECT type, node_id FROM workflow_run_events WHERE run_id = $1 ORDER BY seq',
      [runId],
    );
    for (const n of ['r1', 'r2', 'r3']) {
      expect(events.filter((e) => e.type === 'node_started' && e.node_id === n).length, n).toBe(1);
      expect(events.filter((e) => e.type === 'node_dispatched' && e.node_id === n).length, n).toBe(1);
      expect(events.filter((e) => e.type === 'node_succeeded' && e.node_id === n).length, n).toBe(1);
      expect(dispatches.get(`${runId}:${n}:0`), n).toBe(1);
    }
    // Every cursor committed and completed, none left blocked.
    const { rows: cursors } = await pool.query<{ status: string }>('SELECT status FROM blocked_cursors WHERE run_id = $1', [runId]);
    expect(cursors.map((c) => c.status)).toEqual(['completed', 'completed', 'completed']);
  }

  it('sends the attempts this worker started before their cursor commits, and each node once', async () => {
    await runToEnd(await insertRun(pool, orgId, [node('r1'), node('r2'), node('r3')]));
    expect(early).toEqual({ r1: true, r2: true, r3: true });
  });

  it('sends an attempt an earlier processor started only after its cursor committed', async () => {
    const runId = await insertRun(pool, orgId, [node('r1'), node('r2'), node('r3')]);
    // A worker that died after starting r1 (its node_started is committed, its cursor may not be).
    const client = await pool.connect();
    try {
      await appendEvent(client, { id: runId, organization_id: orgId }, 'node_started', 'r1', { attempt: 0, type: 'connector.action' });
    } finally {
      client.release();
    }
    await runToEnd(runId);
    expect(early).toEqual({ r1: false, r2: true, r3: true });
  });
});
