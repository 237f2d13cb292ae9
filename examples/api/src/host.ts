/**
 * `startApiHost(env)`: the api as a host process would run it (also used in-process by tests and the
 * demo). Reads the runbook env, migrates, wires Redis (control bus `vespid:control`, BullMQ run queue
 * `workflow-runs`) or in-process fallbacks, and listens.
 */
import { type Kek, type Pool, createPool, kekFromEnv, migrate, redisNamesFromEnv } from '@vespid/example-db';
import type { Logger } from '@vespid/protocol';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApiApp } from './app.js';
import { type ApiConfig, type ApiEnv, apiConfigFromEnv } from './config.js';
import { type ControlBus, inProcessControlBus, redisControlBus } from './control-bus.js';
import { ApiError } from './errors.js';
import { type LiveSessionSource, liveSessionsFromEnv } from './live-sessions.js';
import { createApiLogger } from './logger.js';
import { type RunQueue, bullmqRunQueue } from './run-queue.js';
import { buildPageAssets } from './web/bundle.js';

/** Pieces a caller may supply instead of having the host create them from env. */
export interface ApiHostOverrides {
  logger?: Logger;
  /** A pool (not closed by the host). Default: `createPool(DATABASE_URL, {schema: DATABASE_SCHEMA})`. */
  pool?: Pool;
  controlBus?: ControlBus;
  runQueue?: RunQueue;
  kek?: Kek;
  /** Run migrations on start. @default true unless API_AUTO_MIGRATE=false */
  migrate?: boolean;
  /** Live session data for the agents list (not closed by the host). Default: `liveSessionsFromEnv(env)`. */
  liveSessions?: LiveSessionSource;
}

/** A running api host. */
export interface ApiHost {
  /** Base URL, e.g. `http://127.0.0.1:3001`. */
  url: string;
  app: FastifyInstance;
  config: ApiConfig;
  /** Idempotent: stops listening, then closes what the host created (queue, Redis, pool). */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Starts the api host from environment variables: `DATABASE_URL` (required), `DATABASE_SCHEMA`
 * (public), `REDIS_URL` (optional; without it runs and control events stay in-process),
 * `SECRETS_KEK_ID`/`SECRETS_KEK_BASE64` (required, 32 bytes), `BULLMQ_PREFIX` (bull, or
 * `<VESPID_REDIS_PREFIX>:bull`), `VESPID_REDIS_PREFIX` (namespace of every Redis key and channel),
 * `GATEWAY_HTTP_URL` + `GATEWAY_SERVICE_TOKEN` (live session data on the agents list) and the
 * variables of {@link apiConfigFromEnv}. Throws `SECRETS_KEK_INVALID` before listening on a bad KEK.
 *
 * @example
 * ```ts
 * const api = await startApiHost({ ...process.env, API_PORT: '0' });
 * const res = await fetch(`${api.url}/health`);
 * await api.close();
 * ```
 */
export async function startApiHost(env: ApiEnv = process.env, overrides: ApiHostOverrides = {}): Promise<ApiHost> {
  const config = apiConfigFromEnv(env);
  const names = redisNamesFromEnv(env);
  const kek = overrides.kek ?? kekFromEnv(env);
  const logger = overrides.logger ?? createApiLogger({ level: config.logLevel });
  const cleanups: Array<() => Promise<unknown>> = [];
  const runCleanups = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => logger.warn({ err }, 'api cleanup failed'));
    cleanups.length = 0;
  };
  try {
    let pool = overrides.pool;
    if (!pool) {
      if (!env.DATABASE_URL) throw new ApiError('INTERNAL_ERROR', 'DATABASE_URL is not set', { retryable: false });
      const created = createPool(env.DATABASE_URL, { schema: env.DATABASE_SCHEMA || 'public', applicationName: 'vespid-api' });
      cleanups.push(() => created.end());
      pool = created;
    }
    if (overrides.migrate ?? env.API_AUTO_MIGRATE !== 'false') {
      const applied = await migrate(pool, { schema: env.DATABASE_SCHEMA || 'public' });
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }

    let redis: Redis | undefined;
    if (env.REDIS_URL && (!overrides.controlBus || !overrides.runQueue)) {
      // Fail fast when Redis is down (a request must not hang on it); only BullMQ *workers* need
      // maxRetriesPerRequest: null, a Queue that just adds jobs does not.
      redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 5000 });
      redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis error'));
      const r = redis;
      cleanups.push(() => r.quit());
    }
    let controlBus = overrides.controlBus;
    if (!controlBus) {
      if (redis) controlBus = redisControlBus(redis, { channel: names.controlChannel });
      else {
        logger.warn({}, 'REDIS_URL is not set: revocations and tag edits reach only gateways in this process');
        controlBus = inProcessControlBus({ logger });
      }
    }
    let runQueue = overrides.runQueue;
    if (!runQueue) {
      if (!redis) throw new ApiError('INTERNAL_ERROR', 'REDIS_URL is not set and no runQueue was given', { retryable: false });
      const prefix = env.BULLMQ_PREFIX?.trim() || names.bullPrefix;
      const q = bullmqRunQueue({ connection: redis, ...(prefix ? { prefix } : {}) });
      cleanups.push(() => q.close());
      runQueue = q;
    }

    let liveSessions = overrides.liveSessions;
    if (!liveSessions) {
      const created = liveSessionsFromEnv(env, { logger });
      if (created) cleanups.push(() => created.close());
      liveSessions = created;
    }

    const app = buildApiApp({
      pool,
      logger,
      controlBus,
      runQueue,
      kek,
      config,
      ...(redis ? { rateLimitRedis: redis, rateLimitNamespace: names.rateLimitNamespace } : {}),
      ...(liveSessions ? { liveSessions } : {}),
    });
    cleanups.push(() => app.close());
    // Bundle the /agents page now so the first visitor does not wait for esbuild; a failure is only
    // logged (the page route retries and answers 500 with the catalogue body if it still fails).
    void buildPageAssets().catch((err: Error) => logger.error({ err: { message: err.message } }, 'agents page bundle failed'));
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info(
      {
        url,
        agentsPage: `${config.publicUrl ?? url}/agents`,
        gatewayWsUrl: config.gatewayWsUrl,
        staleMs: config.agentStaleMs,
        liveSessions: overrides.liveSessions ? 'custom' : liveSessions ? config.gatewayHttpUrl : 'off (GATEWAY_SERVICE_TOKEN not set)',
      },
      'api listening',
    );

    let closing: Promise<void> | undefined;
    return {
      url,
      app,
      config,
      close(options = {}) {
        closing ??= (async () => {
          const timeoutMs = options.timeoutMs ?? 10_000;
          let timer: NodeJS.Timeout | undefined;
          const forced = new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              // Drain took too long: drop open connections so close() can finish.
              app.server.closeAllConnections?.();
              resolve();
            }, timeoutMs);
            timer.unref();
          });
          await Promise.race([runCleanups(), forced]);
          clearTimeout(timer);
          logger.info({}, 'api closed');
        })();
        return closing;
      },
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
