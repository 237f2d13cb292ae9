/**
 * The worker host on real Postgres: cloud-mode nodes run in the worker, remote nodes fail with the
 * runbook's GATEWAY_NOT_CONFIGURED when the gateway env is missing (instead of hanging), and a run a
 * crashed worker left `running` is resumed by the sweeper exactly once. Cloud mode refuses loopback
 * unless WORKFLOW_HTTP_ALLOWLIST opens it.
 */
import { createServer, type Server } from 'node:http';
import { bootstrapOrganization } from '@vespid/example-api';
import { createPool, dropSchema, migrate, type Pool } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { startWorkerHost, type WorkerHost } from './host.js';
import { insertRun } from '../test/test-support.js';
import { waitFor } from '../../../test/support/wait-for.js';

await describeWith(['postgres'], 'example worker', () => {
  const schema = uniquePrefix('wrk');
  let pool: Pool;
  let orgId: string;
  let target: Server;
  let targetUrl = '';
  let hits = 0;
  const hosts: WorkerHost[] = [];

  async function start(env: Record<string, string>): Promise<WorkerHost> {
    const host = await startWorkerHost({
      env: { DATABASE_URL, DATABASE_SCHEMA: schema, WORKFLOW_NODE_RETRY_DELAY_MS: '10', ...env },
      pool,
    });
    hosts.push(host);
    return host;
  }

  const createRun = (nodes: unknown[], status: 'queued' | 'running' = 'queued', ageMs = 0) =>
    insertRun(pool, orgId, nodes, { status, ageMs });

  async function waitForEnd(
    runId: string,
  ): Promise<{ status: string; events: Array<{ type: string; node_id: string | null; payload: Record<string, unknown> }> }> {
    const status = await waitFor(
      async () => {
        const { rows } = await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
        const now = rows[0]!.status;
        if (now !== 'succeeded' && now !== 'failed') throw new Error(`run is still ${now}`);
        return now;
      },
      { what: `run ${runId} to end`, timeoutMs: 20_000, intervalMs: 50 },
    );
    const events = await pool.query('SELECT type, node_id, payload FROM workflow_run_events WHERE run_id = $1 ORDER BY seq', [runId]);
    return { status, events: events.rows };
  }

  const httpNode = (id: string, mode: 'cloud' | 'node') => ({
    id,
    type: 'connector.action',
    config: { connectorId: 'http', actionId: 'request', input: { method: 'GET', url: `${targetUrl}/${id}` }, execution: { mode } },
  });

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    orgId = (await bootstrapOrganization(pool, { orgName: 'w', email: `${schema}@w.test` })).orgId;
    target = createServer((_req, res) => {
      hits++;
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    for (const h of hosts) await h.close();
    await new Promise((r) => target.close(r));
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('runs cloud-mode nodes in the worker and fails node-mode ones with GATEWAY_NOT_CONFIGURED', async () => {
    // The target listens on loopback, which cloud mode refuses unless the operator lists it.
    const host = await start({ WORKFLOW_HTTP_ALLOWLIST: '127.0.0.1' });
    const runId = await createRun([httpNode('cloud-1', 'cloud'), httpNode('remote-1', 'node')]);
    await host.runQueue.enqueue({ runId, organizationId: orgId });
    const { status, events } = await waitForEnd(runId);
    expect(status).toBe('failed');
    expect(events.find((e) => e.type === 'node_succeeded')?.node_id).toBe('cloud-1');
    const failed = events.filter((e) => e.type === 'node_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload).toMatchObject({ error: { code: 'GATEWAY_NOT_CONFIGURED' }, willRetry: false });
    expect(events.at(-1)).toMatchObject({ type: 'run_failed', payload: { error: { code: 'GATEWAY_NOT_CONFIGURED' } } });
    await host.close();
  });

  it('refuses cloud-mode requests to loopback by default (SSRF), in any notation, without reaching the target', async () => {
    const before = hits;
    const host = await start({});
    const port = new URL(targetUrl).port;
    const node = (id: string, url: string) => ({
      id,
      type: 'connector.action',
      config: { connectorId: 'http', actionId: 'request', input: { url }, execution: { mode: 'cloud' } },
    });
    const runId = await createRun([node('plain', `${targetUrl}/metrics`)]);
    const decimal = await createRun([node('decimal', `http://2130706433:${port}/metrics`)]);
    const mapped = await createRun([node('mapped', `http://[::ffff:127.0.0.1]:${port}/metrics`)]);
    for (const id of [runId, decimal, mapped]) await host.runQueue.enqueue({ runId: id, organizationId: orgId });
    for (const id of [runId, decimal, mapped]) {
      const { status, events } = await waitForEnd(id);
      expect(status).toBe('failed');
      expect(events.find((e) => e.type === 'node_failed')?.payload).toMatchObject({
        error: { code: 'DESTINATION_NOT_ALLOWED' },
        willRetry: false,
      });
    }
    expect(hits).toBe(before);
    await host.close();
  });

  it('resumes a run a crashed worker left running, executing each node once', async () => {
    const before = hits;
    const runId = await createRun([httpNode('a', 'cloud'), httpNode('b', 'cloud')], 'running', 60_000);
    await start({ WORKFLOW_RUN_SWEEP_MS: '200', WORKFLOW_HTTP_ALLOWLIST: '127.0.0.0/8' });
    const { status, events } = await waitForEnd(runId);
    expect(status).toBe('succeeded');
    expect(events.filter((e) => e.type === 'node_succeeded').map((e) => e.node_id)).toEqual(['a', 'b']);
    expect(hits - before).toBe(2);
  });
});
