/**
 * The standalone gateway host: node:http server + `createGateway`, configured by the runbook's
 * Gateway env vars. Postgres authenticator when `DATABASE_URL` is set, Redis results and the
 * `vespid:control` subscription when `REDIS_URL` is set, pino logs, /healthz, /readyz, /metrics.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { type Pool, createPool, migrate } from '@vespid/example-db';
import { type Logger, ROUTES } from '@vespid/protocol';
import { type AgentAuthenticator, type Gateway, createGateway, memoryResultStore } from '@vespid/sdk-gateway';
import { redisCluster, redisResultStore } from '@vespid/sdk-gateway/redis';
import type { DestinationStream } from 'pino';
import { type GatewayHostConfig, gatewayHostConfigFromEnv } from './config.js';
import { subscribeControl } from './control-channel.js';
import { connectRedis } from './redis-client.js';
import { refuseOtherUpgrades, startListeners } from './listeners.js';
import { withDispatchLog } from './dispatch-log.js';
import { createGatewayLogger } from './logger.js';
import { createGatewayMetrics } from './metrics.js';
import { createSessionMetrics } from './session-metrics.js';
import { postgresAgents } from './pg-agents.js';
import { postgresTokenRotator } from './pg-token-rotator.js';

/** Pieces a caller (test, demo) may supply instead of having the host build them from env. */
export interface GatewayHostOverrides {
  authenticator?: AgentAuthenticator;
  logger?: Logger;
  /** Where pino writes (tests capture logs here). */
  logDestination?: DestinationStream;
}

/** A running gateway host. */
export interface GatewayHost {
  /**
   * Base URL of the internal API and `/metrics` actually bound, e.g. `http://127.0.0.1:3002`: the
   * `GATEWAY_INTERNAL_PORT` listener when set, else the one listener.
   */
  url: string;
  /** Base URL of the public listener (`/ws`, `/healthz`, `/readyz`); equals `url` in single-port mode. */
  publicUrl: string;
  /** WebSocket URL actually bound, e.g. `ws://127.0.0.1:3002/ws`. */
  wsUrl: string;
  /** The service token in force (generated when NODE_ENV=test and none was set). */
  serviceToken: string;
  gateway: Gateway;
  /** The public listener (WebSocket upgrades). */
  server: Server;
  /** The internal listener; the same object as `server` in single-port mode. */
  internalServer: Server;
  config: GatewayHostConfig;
  /** Cluster mode: this replica's id; undefined for a single gateway. */
  replicaId: string | undefined;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const refuseAll: AgentAuthenticator = { authenticate: async () => ({ ok: false, reason: 'invalid' }) };

/**
 * Starts the gateway host from environment variables (see the runbook's "Gateway" list; `DATABASE_URL`,
 * `DATABASE_SCHEMA`, `REDIS_URL`, `NODE_ENV`). Throws `GatewayConfigError` (one clear line) on bad config.
 *
 * @example
 * ```ts
 * const host = await startGatewayHost({ ...process.env, GATEWAY_PORT: '0', GATEWAY_HOST: '127.0.0.1' });
 * await fetch(`${host.url}/healthz`);
 * await host.close();
 * ```
 */
export async function startGatewayHost(
  env: Record<string, string | undefined> = process.env,
  overrides: GatewayHostOverrides = {},
): Promise<GatewayHost> {
  const config = gatewayHostConfigFromEnv(env);
  const logger: Logger =
    overrides.logger ??
    createGatewayLogger({ level: config.logLevel, ...(overrides.logDestination ? { destination: overrides.logDestination } : {}) });
  const serviceToken = config.serviceToken ?? randomBytes(24).toString('base64url');
  const cleanups: Array<() => Promise<unknown>> = [];
  const runCleanups = async () => {
    for (const fn of cleanups.splice(0).reverse())
      await fn().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'cleanup failed'));
  };
  try {
    let pool: Pool | undefined;
    let agents: ReturnType<typeof postgresAgents> | undefined;
    if (config.databaseUrl) {
      const p = createPool(config.databaseUrl, { schema: config.databaseSchema, applicationName: 'vespid-gateway', max: 5 });
      cleanups.push(() => p.end());
      if (config.autoMigrate) await migrate(p, { schema: config.databaseSchema });
      pool = p;
      agents = postgresAgents(p, logger, { overlapMs: config.tokenRotationOverlapMs });
      cleanups.push(() => agents!.settle());
    } else if (!overrides.authenticator) {
      logger.warn({}, 'DATABASE_URL is not set and no authenticator was given: every agent will be refused');
    }

    // REDIS_URL, else REDIS_CLUSTER_NODES (a Redis Cluster); the library takes either client.
    if (config.redisUrl && env.REDIS_CLUSTER_NODES?.trim())
      logger.warn({}, 'REDIS_URL and REDIS_CLUSTER_NODES are both set: using REDIS_URL (unset it to use the Redis Cluster)');
    const redis = connectRedis(config, logger) ?? undefined;
    if (redis) cleanups.push(() => redis.quit());
    if (config.resultStore === 'memory') {
      logger.warn(
        { resultStore: 'memory', redis: Boolean(redis) },
        'results are kept in memory and lost on restart (set REDIS_URL and leave GATEWAY_RESULT_STORE unset or "redis" to keep them)',
      );
    }

    // Cluster mode: presence, selection and forwarding through Redis; `gateway.start()` below starts it
    // before any agent connects.
    const cluster =
      redis && config.cluster
        ? redisCluster({
            redis,
            keyPrefix: config.cluster.keyPrefix,
            presenceTtlMs: config.cluster.presenceTtlMs,
            logger,
            ...(config.cluster.replicaId ? { replicaId: config.cluster.replicaId } : {}),
            ...(config.cluster.orgMaxInFlight ? { orgMaxInFlight: config.cluster.orgMaxInFlight } : {}),
          })
        : undefined;
    if (cluster) cleanups.push(() => cluster.close());

    const { registry, metrics } = createGatewayMetrics();
    const sessionMetrics = createSessionMetrics(registry);
    // Liveness flushes several times per stale window so /agents never shows a live agent offline.
    const agentSeenIntervalMs = Math.max(50, Math.min(5000, Math.floor(config.staleMs / 4)));
    const gateway = createGateway({
      ...config,
      serviceToken,
      authenticator: sessionMetrics.authenticator(overrides.authenticator ?? agents?.authenticator ?? refuseAll),
      resultStore:
        redis && config.resultStore === 'redis'
          ? redisResultStore({
              redis,
              ttlSec: config.resultsTtlSec,
              keyPrefix: config.redisNames.resultKeyPrefix,
              channel: config.redisNames.resultChannel,
              dispatchKeyPrefix: config.redisNames.dispatchKeyPrefix,
            })
          : memoryResultStore({ ttlSec: config.resultsTtlSec }),
      logger,
      metrics: withDispatchLog(metrics, logger),
      agentSeenIntervalMs,
      // In-band rotation needs the agents table; a custom authenticator brings its own (or none).
      ...(pool && !overrides.authenticator
        ? { tokenRotator: postgresTokenRotator(pool, { overlapMs: config.tokenRotationOverlapMs }) }
        : {}),
      // Set explicitly: `config.cluster` (the env settings) must not reach the gateway options.
      cluster,
    });
    // Listeners before start() and before the upgrade handler is attached: no hello goes unrecorded.
    if (agents) gateway.on('agents.seen', agents.touch);
    gateway.on('agent.connected', (info) => {
      sessionMetrics.onAgentHello(info);
      return agents?.hello(info);
    });
    gateway.on('agent.disconnected', sessionMetrics.onAgentDisconnected);
    // Cluster mode: subscribes and starts presence refresh; a Redis failure fails the boot here.
    await gateway.start();

    if (redis) {
      const sub = redis.duplicate();
      sub.on('error', (err) => logger.warn({ err: err.message }, 'redis subscriber error'));
      cleanups.push(() => sub.quit());
      const stop = await subscribeControl(sub, gateway, logger, config.redisNames.controlChannel);
      cleanups.push(stop);
    }

    const ready = async (): Promise<boolean> => {
      if (gateway.state !== 'running') return false;
      const checks: Promise<unknown>[] = [];
      if (pool) checks.push(pool.query('SELECT 1'));
      if (redis) checks.push(redis.ping());
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref());
      return Promise.race([Promise.all(checks), timeout]).then(
        () => true,
        () => false,
      );
    };

    const listeners = await startListeners(
      { host: config.host, port: config.port, internal: config.internalListener },
      {
        health: (req, res) => {
          if ((req.url ?? '/').split('?')[0] === '/healthz') {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
            return;
          }
          void ready().then((ok) =>
            res
              .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
              .end(JSON.stringify({ status: ok ? 'ready' : 'not_ready' })),
          );
        },
        metrics: (_req, res) => {
          void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
        },
        internal: (req, res) => gateway.httpHandler(req, res),
      },
      (publicServer) => {
        gateway.attach(publicServer, { path: config.wsPath });
        // The dispatch channel lives with the internal API: on this listener only in single-port mode.
        if (!config.internalListener) gateway.attachChannel(publicServer);
        const served = config.internalListener ? [config.wsPath] : [config.wsPath, ROUTES.channel];
        refuseOtherUpgrades(publicServer, served, `agents connect to ${config.wsPath} (check the agent's gateway URL)`);
      },
    );
    if (config.internalListener) {
      gateway.attachChannel(listeners.internal);
      const hint = `this is the internal listener: agents connect to ${config.wsPath} on GATEWAY_PORT; workers' dispatch channel is ${ROUTES.channel}`;
      refuseOtherUpgrades(listeners.internal, [ROUTES.channel], hint);
    }
    const server = listeners.public;
    const url = listeners.internalUrl;
    const publicUrl = listeners.publicUrl;
    const wsUrl = `${publicUrl.replace(/^http/, 'ws')}${config.wsPath}`;
    logger.info(
      {
        url,
        wsUrl,
        ...(config.internalListener ? { internalUrl: url, publicUrl } : {}),
        ...(config.redisNames.prefix ? { redisPrefix: config.redisNames.prefix } : {}),
        selection: config.selection,
        staleMs: config.staleMs,
        results: config.resultStore,
        ...(cluster ? { replicaId: cluster.replicaId } : {}),
        auth: overrides.authenticator ? 'custom' : pool ? 'postgres' : 'none',
      },
      'gateway listening',
    );

    let closing: Promise<void> | undefined;
    return {
      url,
      publicUrl,
      wsUrl,
      serviceToken,
      gateway,
      server,
      internalServer: listeners.internal,
      config,
      replicaId: cluster?.replicaId,
      close(options = {}) {
        closing ??= (async () => {
          const timeoutMs = options.timeoutMs ?? 10_000;
          await gateway.close({ timeoutMs });
          await listeners.close(Math.min(timeoutMs, 2000));
          await runCleanups();
        })();
        return closing;
      },
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
