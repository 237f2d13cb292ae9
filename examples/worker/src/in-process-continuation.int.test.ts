/**
 * After a remote result is applied in this worker, the run continues here instead of going back
 * through the run queue; a queue job for the same run arriving meanwhile does not run any node twice.
 */
import { type Server, createServer } from 'node:http';
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema, migrate } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { type WorkerHost, startWorkerHost } from './host.js';
import { type PolledGateway, startPolledGateway } from '../test/polled-gateway.js';
import { insertRun } from '../test/test-support.js';

await describeWith(['postgres'], 'worker: in-process continuation', () => {
  const schema = uniquePrefix('wcont');
  let pool: Pool;
  let gateway: PolledGateway;
  let target: Server;
  let host: WorkerHost | undefined;
  let orgId = '';
  const dispatches = new Map<string, number>();
  const targetHits = new Map<string, number>();
  let onResultServed: (requestId: string) => void = () => {};

  const listen = async (s: Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  };

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    ({ orgId } = await bootstrapOrganization(pool, { orgName: 'c', email: `${schema}@c.test` }));
    // Stands in for the gateway: every dispatched request has its result at once (found by polling).
    gateway = await startPolledGateway({
      onDispatch: (id) => dispatches.set(id, (dispatches.get(id) ?? 0) + 1),
      result: (id) => {
        if (!dispatches.has(id)) return null;
        onResultServed(id);
        return { requestId: id, organizationId: orgId, status: 'succeeded', output: { ok: true }, completedAt: Date.now() };
      },
    });
    target = createServer((req, res) => {
      targetHits.set(req.url ?? '', (targetHits.get(req.url ?? '') ?? 0) + 1);
      res.end('{"ok":true}');
    });
  });

  afterAll(async () => {
    await host?.close();
    await gateway.close();
    await new Promise((r) => target.close(r));
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('continues the run in-process after a result and runs every node once despite a duplicate queue job', async () => {
    const targetUrl = await listen(target);
    host = await startWorkerHost({
      pool,
      env: {
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: gateway.url,
        GATEWAY_SERVICE_TOKEN: 'svc-token-for-continuation-test',
        WORKFLOW_CONTINUATION_POLL_MS: '20',
        WORKFLOW_HTTP_ALLOWLIST: '127.0.0.1',
      },
    });
    const node = (id: string, mode: 'cloud' | 'node') => ({
      id,
      type: 'connector.action',
      config: { connectorId: 'http', actionId: 'request', input: { method: 'GET', url: `${targetUrl}/${id}` }, execution: { mode } },
    });
    const runId = await insertRun(pool, orgId, [node('r1', 'node'), node('c1', 'cloud'), node('r2', 'node')]);
    const job = { runId, organizationId: orgId };
    // Every continuation the engine hands to the queue, by step key.
    const queued: string[] = [];
    const schedule = host.runQueue.schedule.bind(host.runQueue);
    host.runQueue.schedule = (j, stepKey, delayMs) => {
      queued.push(stepKey);
      return schedule(j, stepKey, delayMs);
    };
    // A queue job for the same run lands while r1's result is being applied (a sweeper or a duplicate).
    onResultServed = (id) => {
      if (id.endsWith(':r1:0')) void schedule(job, 'duplicate');
    };
    await host.runQueue.enqueue(job);
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
        expect(rows[0]?.status).toBe('succeeded');
      },
      { timeout: 10_000, interval: 20 },
    );
    const { rows: events } = await pool.query<{ type: string; node_id: string | null }>(
      'SELECT type, node_id FROM workflow_run_events WHERE run_id = $1 ORDER BY seq',
      [runId],
    );
    const count = (type: string, nodeId: string) => events.filter((e) => e.type === type && e.node_id === nodeId).length;
    for (const n of ['r1', 'c1', 'r2']) {
      expect(count('node_started', n), n).toBe(1);
      expect(count('node_succeeded', n), n).toBe(1);
    }
    expect(targetHits.get('/c1')).toBe(1);
    expect(dispatches.get(`${runId}:r2:0`)).toBe(1);
    // No `after-…` job: both continuations ran in this process.
    expect(queued.filter((k) => k.startsWith('after-'))).toEqual([]);
  });
});
