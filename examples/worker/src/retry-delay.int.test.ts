/**
 * Retries of a node wait their delay for real. The run recorded `node_retry_scheduled` with delayMs
 * 1000 then 2000, yet the engine's loop went on as soon as `block()` had applied the gateway's refusal,
 * so all attempts ran within ~100 ms. The delay must hold whoever picks the run up early (the loop, the
 * sweeper) and across a worker restart (the wait is a delayed job plus a durable event, not a timer).
 */
import { bootstrapOrganization } from '@vespid/example-api';
import { createPool, dropSchema, migrate, type Pool } from '@vespid/example-db';
import { type FakeDispatchGateway, createFakeDispatchGateway } from '@vespid/sdk-dispatch/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { startWorkerHost, type WorkerHost } from './host.js';
import { insertRun } from '../test/test-support.js';
import { waitFor } from '../../../test/support/wait-for.js';

const SERVICE_TOKEN = `svc_retry_${Math.random().toString(36).slice(2)}`;

interface Event {
  type: string;
  node_id: string | null;
  payload: Record<string, any>;
  /** created_at as epoch ms (database clock). */
  at: number;
}

await describeWith(['postgres', 'redis'], 'worker retry delays', () => {
  const schema = uniquePrefix('wrd');
  let pool: Pool;
  let orgId: string;
  const gateways: FakeDispatchGateway[] = [];
  const hosts: WorkerHost[] = [];

  async function gateway(agents: number): Promise<FakeDispatchGateway> {
    const gw = createFakeDispatchGateway({
      serviceToken: SERVICE_TOKEN,
      agents,
      execute: () => ({ status: 'succeeded', output: { ok: true } }),
    });
    await gw.start();
    gateways.push(gw);
    return gw;
  }

  async function worker(gw: FakeDispatchGateway, env: Record<string, string>): Promise<WorkerHost> {
    const host = await startWorkerHost({
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: gw.url,
        GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
        WORKFLOW_CONTINUATION_POLL_MS: '50',
        WORKFLOW_NODE_MAX_ATTEMPTS: '3',
        ...env,
      },
      pool,
      // Result pushes of other tests on this Redis stay out of this worker.
      resultChannel: `${schema}:results`,
    });
    hosts.push(host);
    return host;
  }

  const remoteNode = {
    id: 'n1',
    type: 'connector.action',
    config: { connectorId: 'http', actionId: 'request', input: {}, execution: { mode: 'node' } },
  };

  async function events(runId: string): Promise<Event[]> {
    const { rows } = await pool.query<Event>(
      `SELECT type, node_id, payload, (extract(epoch FROM created_at) * 1000)::float8 AS at
         FROM workflow_run_events WHERE run_id = $1 ORDER BY seq`,
      [runId],
    );
    return rows;
  }

  async function waitForStatus(runId: string, done: (status: string) => boolean, timeout = 20_000): Promise<string> {
    return waitFor(
      async () => {
        const { rows } = await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
        if (!done(rows[0]!.status)) throw new Error(`run ${runId} is ${rows[0]!.status}`);
        return rows[0]!.status;
      },
      { what: `run ${runId} status`, timeoutMs: timeout, intervalMs: 25 },
    );
  }

  /** For every scheduled retry: the attempt it schedules was dispatched no earlier than its delay. */
  function expectDelaysHeld(list: Event[]): void {
    const retries = list.filter((e) => e.type === 'node_retry_scheduled');
    for (const retry of retries) {
      const dispatched = list.find((e) => e.type === 'node_dispatched' && e.payload.attempt === retry.payload.attempt);
      expect(dispatched, `attempt ${retry.payload.attempt} dispatched`).toBeDefined();
      // Lower bound only: a loaded machine may run it later, never earlier.
      expect(dispatched!.at - retry.at, `attempt ${retry.payload.attempt}`).toBeGreaterThanOrEqual(retry.payload.delayMs);
    }
  }

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    orgId = (await bootstrapOrganization(pool, { orgName: 'r', email: `${schema}@r.test` })).orgId;
  });

  afterAll(async () => {
    for (const h of hosts) await h.close();
    for (const g of gateways) await g.close();
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('spaces NO_AGENT_AVAILABLE attempts by the configured delays, even with the sweeper poking the run', async () => {
    const gw = await gateway(0);
    // In-process run queue; a sweeper every 100 ms finds the waiting run "stalled" and must not cut the wait short.
    const host = await worker(gw, { WORKFLOW_NODE_RETRY_DELAY_MS: '400', WORKFLOW_RUN_SWEEP_MS: '100' });
    const runId = await insertRun(pool, orgId, [remoteNode]);
    await host.runQueue.enqueue({ runId, organizationId: orgId });
    await waitForStatus(runId, (s) => s === 'failed');

    const list = await events(runId);
    expect(list.filter((e) => e.type === 'node_failed').map((e) => [e.payload.attempt, e.payload.error.code, e.payload.willRetry])).toEqual(
      [
        [0, 'NO_AGENT_AVAILABLE', true],
        [1, 'NO_AGENT_AVAILABLE', true],
        [2, 'NO_AGENT_AVAILABLE', false],
      ],
    );
    expect(list.filter((e) => e.type === 'node_retry_scheduled').map((e) => [e.payload.attempt, e.payload.delayMs])).toEqual([
      [1, 400],
      [2, 800],
    ]);
    expectDelaysHeld(list);
    // Each attempt was dispatched (and started) exactly once despite the sweeper's extra jobs.
    expect(list.filter((e) => e.type === 'node_dispatched').map((e) => e.payload.attempt)).toEqual([0, 1, 2]);
    expect(list.filter((e) => e.type === 'node_started').map((e) => e.payload.attempt)).toEqual([0, 1, 2]);
    await host.close();
  });

  it('keeps a scheduled retry across a worker restart (BullMQ delayed job) and runs it once the agent is back', async () => {
    const gw = await gateway(0);
    const prefix = uniquePrefix('bullrd');
    const env = { REDIS_URL, BULLMQ_PREFIX: prefix, WORKFLOW_NODE_RETRY_DELAY_MS: '1500' };
    const first = await worker(gw, env);
    const runId = await insertRun(pool, orgId, [remoteNode]);
    await first.runQueue.enqueue({ runId, organizationId: orgId });
    await vi.waitFor(
      async () => {
        if (!(await events(runId)).some((e) => e.type === 'node_retry_scheduled')) throw new Error('no retry scheduled yet');
      },
      { timeout: 10_000, interval: 25 },
    );
    // The worker goes away while the run waits; the agent reconnects meanwhile.
    await first.close();
    gw.agents = 1;
    await worker(gw, env);
    await waitForStatus(runId, (s) => s === 'succeeded');

    const list = await events(runId);
    expect(list.filter((e) => e.type === 'node_failed').map((e) => e.payload.attempt)).toEqual([0]);
    expect(list.filter((e) => e.type === 'node_succeeded').map((e) => e.payload.attempt)).toEqual([1]);
    expectDelaysHeld(list);
    expect(gw.accepted.map((a) => a.requestId)).toEqual([`${runId}:n1:1`]);

    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    try {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    } finally {
      await redis.quit();
    }
  });
});
