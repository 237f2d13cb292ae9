import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, generateToken } from '@vespid/protocol';
import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';
import { type Gateway, createGateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { redisResultStore } from '@vespid/sdk-gateway/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../../test/services.js';
import { type DispatchClient, createDispatchClient, dispatchClientFromEnv } from '../client/dispatch-client.js';
import { postgresCursorStore } from '../postgres/postgres-store.js';
import { bullmqQueue, redisResultPush } from '../redis/index.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { ContinuationRunner } from './types.js';
import type { BlockInput, ContinuationRunnerOptions } from './options.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const ORG = 'org-int';
const SERVICE_TOKEN = `svc-CANARY-${Math.random().toString(36).slice(2)}`;
const SECRET = `secret-CANARY-${Math.random().toString(36).slice(2)}`;
const AGENT_TOKEN = generateToken(ORG);

interface EventRow {
  run_id: string;
  type: string;
  code: string | null;
  source: string | null;
  output: unknown;
}

await describeWith(['postgres', 'redis'], 'continuation runner against the real gateway, Postgres and Redis', () => {
  const prefix = uniquePrefix('disp').toLowerCase();
  const keyPrefix = `${prefix}:results:`;
  const channel = `${prefix}:results`;
  const logs: string[] = [];
  const logger: Logger = {
    debug: (o, m) => logs.push(JSON.stringify({ ...o, m })),
    info: (o, m) => logs.push(JSON.stringify({ ...o, m })),
    warn: (o, m) => logs.push(JSON.stringify({ ...o, m })),
    error: (o, m) => logs.push(JSON.stringify({ ...o, m })),
  };
  let redis: Redis;
  let pool: pg.Pool;
  let gateway: Gateway;
  let server: Server;
  let agent: Agent;
  let client: DispatchClient;
  let gatewayUrl: string;
  const release: Array<() => void> = [];
  const runners: ContinuationRunner[] = [];
  let queueSeq = 0;

  // The test connector: `echo` answers at once, `slow` after input.delayMs, `hang` only when the suite ends.
  const executor: Executor = {
    kind: 'connector.action',
    connectors: ['test'],
    async execute(task, ctx) {
      const { actionId, input } = task.payload as { actionId: string; input: { delayMs?: number; value?: unknown } };
      if (actionId === 'hang') await new Promise<void>((r) => release.push(r));
      if (actionId === 'slow') await new Promise((r) => setTimeout(r, input.delayMs ?? 500));
      return { status: 'succeeded', output: { value: input.value ?? null, hadSecret: ctx.secret === SECRET } };
    },
  };

  const store = () => postgresCursorStore({ pool, schema: prefix, table: 'cursors', logger });
  const events = async (runId: string) =>
    (
      await pool.query<EventRow>(`SELECT run_id, type, code, source, output FROM "${prefix}".run_events WHERE run_id = $1 ORDER BY seq`, [
        runId,
      ])
    ).rows;
  const terminal = async (runId: string) => (await events(runId)).filter((e) => e.type !== 'node_dispatched');

  function runner(over: Partial<ContinuationRunnerOptions<pg.PoolClient>> = {}, { push = true } = {}): ContinuationRunner {
    const r = createContinuationRunner<pg.PoolClient>({
      client,
      store: store(),
      ...(push ? { push: redisResultPush({ connection: REDIS_URL, channel, logger }) } : {}),
      queue: bullmqQueue({ connection: REDIS_URL, queueName: `${prefix}-q${queueSeq}`, concurrency: 10, logger }),
      pollMs: 60_000,
      deadlineGraceMs: 0,
      logger,
      onBlocked: async ({ cursor, tx }) => {
        await tx.query(`INSERT INTO "${prefix}".run_events (run_id, node_id, type) VALUES ($1, $2, 'node_dispatched')`, [
          cursor.runId,
          cursor.nodeId,
        ]);
      },
      onResult: async ({ cursor, result, tx }) => {
        await tx.query(`INSERT INTO "${prefix}".run_events (run_id, node_id, type, code, source, output) VALUES ($1, $2, $3, $4, $5, $6)`, [
          cursor.runId,
          cursor.nodeId,
          `node_${result.status}`,
          result.error?.code ?? null,
          result.source,
          JSON.stringify(result.output ?? null),
        ]);
        await tx.query(`UPDATE "${prefix}".runs SET status = 'running', cursor = NULL WHERE id = $1`, [cursor.runId]);
      },
      ...over,
    });
    runners.push(r);
    return r;
  }

  const node = (runId: string, actionId: string, over: Partial<BlockInput> = {}): BlockInput => ({
    organizationId: ORG,
    runId,
    nodeId: 'remote',
    attempt: 0,
    kind: 'connector.action',
    payload: { connectorId: 'test', actionId, input: { value: runId } },
    secret: SECRET,
    timeoutMs: 10_000,
    ...over,
  });

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
    await store().migrate();
    await pool.query(
      `CREATE TABLE "${prefix}".run_events (seq bigserial PRIMARY KEY, run_id text, node_id text, type text, code text, source text, output jsonb)`,
    );
    await pool.query(`CREATE TABLE "${prefix}".runs (id text PRIMARY KEY, status text, cursor text)`);
    gateway = createGateway({
      authenticator: staticAuthenticator([{ token: AGENT_TOKEN, agentId: 'agent-1', organizationId: ORG, tags: [] }]),
      serviceToken: SERVICE_TOKEN,
      resultStore: redisResultStore({ redis, ttlSec: 300, keyPrefix, channel, dispatchKeyPrefix: `${prefix}:dispatches:` }),
    });
    server = createServer(gateway.httpHandler);
    gateway.attach(server, { path: '/ws' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    gatewayUrl = `http://127.0.0.1:${port}`;
    agent = createAgent({ gatewayWsUrl: `ws://127.0.0.1:${port}/ws`, agentToken: AGENT_TOKEN, name: 'int-agent', executors: [executor] });
    await agent.start();
    await waitFor(() => gateway.listSessions().some((s) => s.state === 'ready'), { timeoutMs: 10_000 });
    client = createDispatchClient({ gatewayHttpUrl: gatewayUrl, serviceToken: SERVICE_TOKEN, logger });
  });

  // Each test's workers stop with it, so the next test's results are not picked up by them.
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.close({ timeoutMs: 2000 });
  });

  afterAll(async () => {
    for (const r of release.splice(0)) r();
    await agent?.close({ timeoutMs: 2000 });
    await gateway?.close({ timeoutMs: 2000 });
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await client?.close();
    if (pool) {
      await pool.query(`DROP SCHEMA IF EXISTS "${prefix}" CASCADE`);
      await pool.end();
    }
    if (redis) {
      const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`bull:${prefix}*`))];
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });

  describe('result arrival', () => {
    it('applies a result via push within milliseconds even with WORKFLOW_CONTINUATION_POLL_MS=60000', async () => {
      queueSeq++;
      const r = runner({ pollMs: 60_000 });
      await r.start();
      // Junk on the channel is dropped without disturbing the subscription.
      await redis.publish(channel, 'not json');
      await redis.publish(channel, JSON.stringify({ requestId: 'push-1:remote:0', status: 'succeeded' }));
      const t0 = performance.now();
      await r.block(node('push-1', 'echo'));
      await waitFor(async () => (await terminal('push-1')).length === 1, { timeoutMs: 10_000 });
      const elapsedMs = performance.now() - t0;
      logs.push(JSON.stringify({ measured: 'push block→applied ms', elapsedMs }));
      expect(await events('push-1')).toEqual([
        { run_id: 'push-1', type: 'node_dispatched', code: null, source: null, output: null },
        { run_id: 'push-1', type: 'node_succeeded', code: null, source: 'push', output: { value: 'push-1', hadSecret: true } },
      ]);
    });

    it('still applies the result by polling when push is disabled', async () => {
      queueSeq++;
      const r = runner({ pollMs: 50 }, { push: false });
      await r.start();
      await r.block(node('poll-1', 'echo'));
      await waitFor(async () => (await terminal('poll-1')).length === 1, { timeoutMs: 10_000 });
      expect(await terminal('poll-1')).toMatchObject([{ type: 'node_succeeded', source: 'poll' }]);
    });

    it('still applies the result by polling when the push message is lost', async () => {
      queueSeq++;
      const r = runner({ push: redisResultPush({ connection: REDIS_URL, channel: `${prefix}:nobody-publishes-here` }), pollMs: 50 });
      await r.start();
      await r.block(node('lost-1', 'slow', { payload: { connectorId: 'test', actionId: 'slow', input: { delayMs: 100, value: 'x' } } }));
      await waitFor(async () => (await terminal('lost-1')).length === 1, { timeoutMs: 10_000 });
      expect(await terminal('lost-1')).toMatchObject([{ type: 'node_succeeded', source: 'poll' }]);
    });
  });

  describe('exactly once', () => {
    it('yields one terminal event when push, polls, two workers and redeliveries race', async () => {
      queueSeq++;
      const a = runner({ pollMs: 10 });
      const b = runner({ pollMs: 10 });
      await Promise.all([a.start(), b.start()]);
      await a.block(node('race-1', 'slow', { payload: { connectorId: 'test', actionId: 'slow', input: { delayMs: 150, value: 1 } } }));
      await waitFor(async () => (await redis.exists(`${keyPrefix}race-1:remote:0`)) === 1, { timeoutMs: 10_000 });
      const stored = JSON.parse((await redis.get(`${keyPrefix}race-1:remote:0`))!);
      await Promise.all([
        ...Array.from({ length: 10 }, () => a.deliver(stored)),
        ...Array.from({ length: 10 }, () => b.deliver(stored)),
        ...Array.from({ length: 5 }, () => redis.publish(channel, JSON.stringify(stored))),
        a.sweep({ promote: true }),
        b.sweep({ promote: true }),
        b.block(node('race-1', 'slow')),
      ]);
      // The terminal event is written in the transaction that completes the cursor; a completed cursor
      // is never applied again, so once it is completed the event list is final.
      await waitFor(async () => (await store().get('race-1:remote:0'))?.status === 'completed', { timeoutMs: 10_000 });
      expect(await terminal('race-1')).toHaveLength(1);
      expect((await events('race-1')).filter((e) => e.type === 'node_dispatched')).toHaveLength(1);
    });
  });

  describe('deadline', () => {
    it('fires NODE_EXECUTION_TIMEOUT when the agent never answers', async () => {
      queueSeq++;
      const r = runner({ pollMs: 60_000 });
      await r.start();
      await r.block(node('hang-1', 'hang', { timeoutMs: 300 }));
      await waitFor(async () => (await store().get('hang-1:remote:0'))?.status === 'completed', { timeoutMs: 10_000 });
      expect(await terminal('hang-1')).toMatchObject([{ type: 'node_failed', code: 'NODE_EXECUTION_TIMEOUT' }]);
    });

    it("fires the runner's own deadline when no agent of the organization ever takes the node", async () => {
      queueSeq++;
      const r = runner({ pollMs: 50, retryNoAgent: true });
      await r.start();
      await r.block(node('noagent-1', 'echo', { organizationId: 'org-without-agents', timeoutMs: 250 }));
      await waitFor(async () => (await terminal('noagent-1')).length === 1, { timeoutMs: 10_000 });
      expect(await terminal('noagent-1')).toMatchObject([{ type: 'node_failed', code: 'NODE_EXECUTION_TIMEOUT', source: 'timeout' }]);
    });

    it('fails the node with NO_AGENT_AVAILABLE at once by default', async () => {
      queueSeq++;
      const r = runner();
      await r.start();
      await r.block(node('noagent-2', 'echo', { organizationId: 'org-without-agents' }));
      expect(await terminal('noagent-2')).toMatchObject([{ type: 'node_failed', code: 'NO_AGENT_AVAILABLE', source: 'dispatch' }]);
    });
  });

  describe('restart', () => {
    it('resumes a run whose worker stopped mid-wait and whose push was missed', async () => {
      queueSeq++;
      const first = runner({ pollMs: 60_000 });
      await first.start();
      await first.block(
        node('restart-1', 'slow', { payload: { connectorId: 'test', actionId: 'slow', input: { delayMs: 300, value: 'r' } } }),
      );
      await first.close();
      await waitFor(async () => (await redis.exists(`${keyPrefix}restart-1:remote:0`)) === 1, { timeoutMs: 10_000 });
      expect(await terminal('restart-1')).toHaveLength(0);
      const second = runner({ pollMs: 60_000 });
      await second.start();
      await waitFor(async () => (await terminal('restart-1')).length === 1, { timeoutMs: 10_000 });
      expect(await terminal('restart-1')).toMatchObject([
        { type: 'node_succeeded', source: 'poll', output: { value: 'r', hadSecret: true } },
      ]);
    });

    it('dispatches a node whose worker crashed between persisting the cursor and dispatching', async () => {
      queueSeq++;
      const s = store();
      await s.insert({
        requestId: 'crash-1:remote:0',
        runId: 'crash-1',
        nodeId: 'remote',
        attempt: 0,
        organizationId: ORG,
        request: { kind: 'connector.action', payload: { connectorId: 'test', actionId: 'echo', input: { value: 'c' } }, timeoutMs: 10_000 },
        deadlineAt: Date.now() + 10_000,
        createdAt: Date.now(),
      });
      const r = runner({ pollMs: 50, resolveSecret: () => SECRET });
      await r.start();
      await waitFor(async () => (await terminal('crash-1')).length === 1, { timeoutMs: 10_000 });
      expect(await terminal('crash-1')).toMatchObject([{ type: 'node_succeeded', output: { value: 'c', hadSecret: true } }]);
      expect((await s.get('crash-1:remote:0'))?.status).toBe('completed');
    });
  });

  describe('configuration and secrets', () => {
    it('raises GATEWAY_NOT_CONFIGURED when the env is missing, UNAUTHORIZED with a wrong token', async () => {
      expect(() => dispatchClientFromEnv({})).toThrow(expect.objectContaining({ code: 'GATEWAY_NOT_CONFIGURED' }));
      expect(() => dispatchClientFromEnv({ GATEWAY_HTTP_URL: gatewayUrl })).toThrow(/GATEWAY_SERVICE_TOKEN/);
      const ok = dispatchClientFromEnv({ GATEWAY_HTTP_URL: gatewayUrl, GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN });
      expect(await ok.getResult('nothing:here:0')).toBeNull();
      await ok.close();
      const wrong = dispatchClientFromEnv({ GATEWAY_HTTP_URL: gatewayUrl, GATEWAY_SERVICE_TOKEN: 'wrong-token' });
      await expect(wrong.getResult('nothing:here:0')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      await wrong.close();
    });

    it('never writes the secret or the service token to logs, cursors or events', async () => {
      const dump = await pool.query(
        `SELECT row_to_json(c)::text AS t FROM "${prefix}".cursors c UNION ALL SELECT row_to_json(e)::text FROM "${prefix}".run_events e`,
      );
      const everything = JSON.stringify([logs, dump.rows]);
      expect(dump.rows.length).toBeGreaterThan(5);
      expect(everything).not.toContain(SECRET);
      expect(everything).not.toContain(SERVICE_TOKEN);
    });
  });
});
