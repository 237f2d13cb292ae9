/**
 * Regression (found by the chaos suite): the api enqueues new runs under `BULLMQ_PREFIX`, but the
 * worker host ignored that variable and consumed BullMQ's default `bull` prefix, so with the variable
 * set every run stayed `queued` forever. The worker must read the same variable.
 */
import { createServer, type Server } from 'node:http';
import { bootstrapOrganization, bullmqRunQueue } from '@vespid/example-api';
import { createPool, dropSchema, migrate, type Pool } from '@vespid/example-db';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { insertRun } from '../test/test-support.js';
import { startWorkerHost } from './host.js';
import { waitFor } from '../../../test/support/wait-for.js';

await describeWith(['postgres', 'redis'], 'worker host BULLMQ_PREFIX', () => {
  const schema = uniquePrefix('wbp');
  const prefix = uniquePrefix('bullp');
  let pool: Pool;
  let target: Server;
  let targetUrl = '';

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    target = createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => target.close(r));
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('consumes runs the api enqueued under BULLMQ_PREFIX', async () => {
    const { orgId } = await bootstrapOrganization(pool, { orgName: 'p', email: `${schema}@p.test` });
    const runId = await insertRun(pool, orgId, [
      { id: 'n1', type: 'connector.action', config: { connectorId: 'http', actionId: 'request', input: { url: targetUrl } } },
    ]);

    // The cloud-mode node calls a loopback target: the operator allowlist must open it.
    const worker = await startWorkerHost({
      env: { DATABASE_URL, DATABASE_SCHEMA: schema, REDIS_URL, BULLMQ_PREFIX: prefix, WORKFLOW_HTTP_ALLOWLIST: '127.0.0.1' },
      pool,
    });
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const apiQueue = bullmqRunQueue({ connection: redis, prefix });
    try {
      await apiQueue.enqueue({ runId, organizationId: orgId });
      const status = await waitFor(
        async () => {
          const now = (await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId])).rows[0]!.status;
          return (now === 'succeeded' || now === 'failed') && now;
        },
        { what: 'the run to end', timeoutMs: 10_000, intervalMs: 50 },
      );
      expect(status).toBe('succeeded');
    } finally {
      await worker.close();
      await apiQueue.queue.obliterate({ force: true }).catch(() => {});
      await apiQueue.close();
      await redis.quit();
    }
  });

  it('keeps the continuations of blocked remote nodes under BULLMQ_PREFIX too (not the shared default prefix)', async () => {
    // A gateway that accepts the dispatch and never has the result: the run stays blocked on its continuation.
    const gw = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST') {
          const { requestId } = JSON.parse(body) as { requestId: string };
          res.writeHead(201).end(JSON.stringify({ requestId, dispatched: true }));
        } else res.writeHead(404).end(JSON.stringify({ code: 'RESULT_NOT_READY', message: 'not yet' }));
      });
    });
    await new Promise<void>((r) => gw.listen(0, '127.0.0.1', r));
    const { orgId } = await bootstrapOrganization(pool, { orgName: 'c', email: `${schema}-c@p.test` });
    const runId = await insertRun(pool, orgId, [
      {
        id: 'n1',
        type: 'connector.action',
        config: { connectorId: 'http', actionId: 'request', input: { url: targetUrl }, execution: { mode: 'node' } },
      },
    ]);
    const env = {
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL,
      BULLMQ_PREFIX: prefix,
      GATEWAY_HTTP_URL: `http://127.0.0.1:${(gw.address() as { port: number }).port}`,
      GATEWAY_SERVICE_TOKEN: 'svc-test-token',
      WORKFLOW_CONTINUATION_POLL_MS: '300',
    };
    const worker = await startWorkerHost({ env, pool });
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    try {
      await worker.runQueue.enqueue({ runId, organizationId: orgId });
      const status = () => pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
      await waitFor(async () => (await status()).rows[0]!.status === 'blocked', {
        what: 'the run to block',
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      // The due sweep hands the still-blocked cursor to the continuation queue about pollMs after it was created.
      const job = `workflow-continuations:cont~${runId}~n1~0`;
      await waitFor(async () => (await redis.exists(`${prefix}:${job}`)) === 1, {
        what: `${job} under ${prefix}`,
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      expect(await redis.exists(`bull:${job}`)).toBe(0);
    } finally {
      await worker.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await new Promise((r) => gw.close(r));
    }
  });
});
