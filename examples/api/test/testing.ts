/**
 * Test harness for the api integration tests (not exported from the package): an app on its own
 * Postgres schema and BullMQ prefix, listening on 127.0.0.1:0, with every log line captured.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Pool, createPool, dropSchema, migrate, parseKek } from '@vespid/example-db';
import { Redis } from 'ioredis';
import { DATABASE_URL, REDIS_URL, uniquePrefix } from '../../../test/services.js';
import { buildApiApp } from '../src/app.js';
import type { ApiConfigInput } from '../src/config.js';
import { redisControlBus } from '../src/control-bus.js';
import type { LiveSessionSource } from '../src/live-sessions.js';
import { createApiLogger } from '../src/logger.js';
import { type BullmqRunQueue, bullmqRunQueue } from '../src/run-queue.js';
import { bootstrapOrganization } from '../src/users.js';

export interface TestApi {
  url: string;
  pool: Pool;
  schema: string;
  redis: Redis;
  runQueue: BullmqRunQueue;
  /** Every log line written so far (JSON text). */
  logs: string[];
  /** The app's route table (method + url pattern, HEAD left out), as Fastify registered it. */
  routes: Array<{ method: string; url: string }>;
  call(
    method: string,
    path: string,
    options?: { token?: string; orgId?: string | null; body?: unknown },
  ): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  org(name?: string): Promise<{ orgId: string; userId: string; accessToken: string }>;
  close(): Promise<void>;
}

export const TEST_KEK_BASE64 = randomBytes(32).toString('base64');

/** Starts an api for one test file. `orgId: null` sends no X-Org-Id; default is the org in the path. */
export async function startTestApi(config: ApiConfigInput = {}, extra: { liveSessions?: LiveSessionSource } = {}): Promise<TestApi> {
  const schema = uniquePrefix('api');
  const pool = createPool(DATABASE_URL, { schema, max: 8 });
  await migrate(pool, { schema });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const runQueue = bullmqRunQueue({ connection: redis, prefix: uniquePrefix('bullq') });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createApiLogger({ level: 'debug', destination });
  const app = buildApiApp({
    pool,
    logger,
    controlBus: redisControlBus(redis),
    runQueue,
    kek: parseKek({ kekId: 'test-kek', kekBase64: TEST_KEK_BASE64 }),
    config: { rateLimitMax: 10_000, pairRateLimitMax: 1000, ...config },
    ...(extra.liveSessions ? { liveSessions: extra.liveSessions } : {}),
  });
  // Added before listen(): the route plugins load then, so this hook sees every route they register.
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  return {
    url,
    pool,
    schema,
    redis,
    runQueue,
    logs,
    routes,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const orgFromPath = /^\/v1\/orgs\/([^/]+)/.exec(path)?.[1];
      const orgId = options.orgId === undefined ? orgFromPath : options.orgId;
      if (orgId) headers['x-org-id'] = orgId;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return { status: res.status, body, text, headers: res.headers };
    },
    org(name = 'Acme') {
      return bootstrapOrganization(pool, { orgName: name, email: `${uniquePrefix('u')}@example.test` });
    },
    async close() {
      await app.close();
      await runQueue.queue.obliterate({ force: true }).catch(() => {});
      await runQueue.close();
      await redis.quit();
      await dropSchema(pool, schema);
      await pool.end();
    },
  };
}

/** Every row of every table of the schema as text (to prove a raw value is stored nowhere). */
export async function dumpSchema(pool: Pool, schema: string): Promise<string> {
  const tables = await pool.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
    [schema],
  );
  let out = '';
  for (const { table_name } of tables.rows) {
    const rows = await pool.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM ${schema}.${table_name} t`);
    out += rows.rows.map((r) => r.j).join('\n');
  }
  return out;
}
