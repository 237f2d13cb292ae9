import { type RedisNames, redisNamesFromEnv, tokenRotationOverlapMsFromEnv } from '@vespid/example-db';
import { type GatewayEnvConfig, gatewayOptionsFromEnv } from '@vespid/sdk-gateway';
import { type RedisClusterNode, parseClusterNodes } from './cluster-nodes.js';

/** Everything the gateway host reads from its environment. */
export interface GatewayHostConfig extends GatewayEnvConfig {
  /** `DATABASE_URL`: Postgres authenticator over `organization_agents` when set. */
  databaseUrl: string | undefined;
  /** `DATABASE_SCHEMA` @default 'public' */
  databaseSchema: string;
  /** `GATEWAY_AUTO_MIGRATE` (not in the runbook; for standalone runs) @default true */
  autoMigrate: boolean;
  /** `REDIS_URL`: Redis result store and the `vespid:control` subscription when set; memory otherwise. */
  redisUrl: string | undefined;
  /**
   * `REDIS_CLUSTER_NODES`: seeds (`host:port,…`) of a Redis Cluster, used when `REDIS_URL` is unset: the
   * gateway then keeps results, cluster-mode state and the control subscription on that Cluster (ioredis
   * `Cluster` client). `REDIS_URL` wins when both are set, so a setup on standalone Redis (or Sentinel)
   * never changes because the variable appears in its environment (the test services export it).
   */
  redisClusterNodes: RedisClusterNode[] | undefined;
  /**
   * Where results are kept (`GATEWAY_RESULT_STORE`): `redis` (survive a restart, for
   * `GATEWAY_RESULTS_TTL_SEC`) or `memory` (lost on restart). Default: `redis` when `REDIS_URL` is set,
   * else `memory` — except under `NODE_ENV=production`, where memory must be chosen explicitly.
   */
  resultStore: 'redis' | 'memory';
  /** `NODE_ENV === 'test'`: the only case in which `GATEWAY_SERVICE_TOKEN` may be missing. */
  testMode: boolean;
  /** The WebSocket path, taken from `GATEWAY_WS_URL` (default `/ws`). */
  wsPath: string;
  /** Cluster mode (several replicas sharing Redis), from `GATEWAY_CLUSTER=redis`; null = single gateway. */
  cluster: GatewayClusterConfig | null;
  /** `GATEWAY_ORG_MAX_QUEUED`: dispatches one organization may have waiting for an agent; beyond: 429 `QUEUE_FULL`. @default 10000 */
  orgMaxQueued: number;
  /** Every Redis key and channel name, under `VESPID_REDIS_PREFIX` when set. */
  redisNames: RedisNames;
  /**
   * Separate listener for `/internal/*` and `/metrics` (`GATEWAY_INTERNAL_PORT`, `GATEWAY_INTERNAL_HOST`
   * default `GATEWAY_HOST`); undefined = everything on `GATEWAY_PORT`, as the runbook has it.
   */
  internalListener: { host: string; port: number } | undefined;
  /**
   * `AGENT_TOKEN_ROTATION_OVERLAP_MS`: how long a rotated agent token stays valid (used when a rotation
   * completes without a deadline set by the control plane). @default 86400000 (24 h)
   */
  tokenRotationOverlapMs: number;
}

/** Cluster-mode settings (`GATEWAY_CLUSTER=redis`). */
export interface GatewayClusterConfig {
  /** `GATEWAY_REPLICA_ID` (unique per replica) @default `<hostname>-<pid>-<random>` */
  replicaId: string | undefined;
  /** `GATEWAY_CLUSTER_KEY_PREFIX` @default 'gateway:cluster:' (under `VESPID_REDIS_PREFIX` when that is set) */
  keyPrefix: string;
  /** `GATEWAY_CLUSTER_PRESENCE_TTL_MS`: an agent of a dead replica stops being selected after this. @default 15000 */
  presenceTtlMs: number;
  /** `GATEWAY_ORG_MAX_IN_FLIGHT`: per-organization in-flight cap across all replicas; unset = none. */
  orgMaxInFlight: number | undefined;
}

/** A startup error whose message is one clear line for the operator. */
export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError';
}

const set = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

function positiveInt(env: Record<string, string | undefined>, name: string, min: number): number | undefined {
  const v = set(env[name]);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new GatewayConfigError(`${name} must be an integer >= ${min}, got "${v.slice(0, 20)}"`);
  return n;
}

/**
 * Reads the runbook's Gateway variables (via `gatewayOptionsFromEnv`) plus `DATABASE_URL`,
 * `DATABASE_SCHEMA`, `REDIS_URL`, `REDIS_CLUSTER_NODES`, `NODE_ENV` and the cluster-mode variables (`GATEWAY_CLUSTER=redis`,
 * `GATEWAY_REPLICA_ID`, `GATEWAY_CLUSTER_KEY_PREFIX`, `GATEWAY_CLUSTER_PRESENCE_TTL_MS`, `GATEWAY_ORG_MAX_IN_FLIGHT`),
 * `GATEWAY_ORG_MAX_QUEUED`, `VESPID_REDIS_PREFIX` and `AGENT_TOKEN_ROTATION_OVERLAP_MS`. Refuses to run without `GATEWAY_SERVICE_TOKEN` unless
 * `NODE_ENV=test`, and with `NODE_ENV=production` but no Redis (`REDIS_URL` or `REDIS_CLUSTER_NODES`) unless `GATEWAY_RESULT_STORE=memory`.
 *
 * @example
 * ```ts
 * const config = gatewayHostConfigFromEnv(process.env);
 * ```
 */
export function gatewayHostConfigFromEnv(env: Record<string, string | undefined>): GatewayHostConfig {
  let base: GatewayEnvConfig;
  try {
    base = gatewayOptionsFromEnv(env);
  } catch (err) {
    throw new GatewayConfigError((err as Error).message);
  }
  const testMode = env.NODE_ENV === 'test';
  if (!base.serviceToken && !testMode) {
    throw new GatewayConfigError('GATEWAY_SERVICE_TOKEN is required (the worker -> gateway dispatch token); refusing to start without it');
  }
  const schema = set(env.DATABASE_SCHEMA) ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new GatewayConfigError('DATABASE_SCHEMA must be a plain lower-case identifier');
  let redisClusterNodes: RedisClusterNode[] | undefined;
  const seeds = set(env.REDIS_URL) ? undefined : set(env.REDIS_CLUSTER_NODES);
  try {
    redisClusterNodes = seeds === undefined ? undefined : parseClusterNodes(seeds);
  } catch (err) {
    throw new GatewayConfigError((err as Error).message);
  }
  const hasRedis = Boolean(set(env.REDIS_URL) || redisClusterNodes);
  const resultStore = resultStoreFrom(env, hasRedis);
  let names: RedisNames;
  try {
    names = redisNamesFromEnv(env);
  } catch (err) {
    throw new GatewayConfigError((err as Error).message);
  }
  let cluster: GatewayClusterConfig | null = null;
  const mode = set(env.GATEWAY_CLUSTER)?.toLowerCase();
  if (mode && mode !== 'off' && mode !== 'none') {
    if (mode !== 'redis') throw new GatewayConfigError(`GATEWAY_CLUSTER must be "redis" (or unset), got "${mode.slice(0, 20)}"`);
    if (!hasRedis)
      throw new GatewayConfigError(
        'GATEWAY_CLUSTER=redis needs REDIS_URL or REDIS_CLUSTER_NODES (the replicas share presence and results there)',
      );
    if (resultStore === 'memory')
      throw new GatewayConfigError('GATEWAY_CLUSTER=redis needs GATEWAY_RESULT_STORE=redis (a result must be readable from every replica)');
    const replicaId = set(env.GATEWAY_REPLICA_ID);
    if (replicaId !== undefined && !/^[A-Za-z0-9._@-]{1,100}$/.test(replicaId))
      throw new GatewayConfigError('GATEWAY_REPLICA_ID must be 1-100 letters, digits or . _ @ -');
    cluster = {
      replicaId,
      keyPrefix: set(env.GATEWAY_CLUSTER_KEY_PREFIX) ?? names.clusterKeyPrefix,
      presenceTtlMs: positiveInt(env, 'GATEWAY_CLUSTER_PRESENCE_TTL_MS', 300) ?? 15_000,
      orgMaxInFlight: positiveInt(env, 'GATEWAY_ORG_MAX_IN_FLIGHT', 1),
    };
  }
  const internalPort = positiveInt(env, 'GATEWAY_INTERNAL_PORT', 0);
  if (internalPort !== undefined && internalPort !== 0 && internalPort === base.port)
    throw new GatewayConfigError('GATEWAY_INTERNAL_PORT must differ from GATEWAY_PORT (unset it to serve both on one port)');
  if (internalPort === undefined && set(env.GATEWAY_INTERNAL_HOST))
    throw new GatewayConfigError('GATEWAY_INTERNAL_HOST needs GATEWAY_INTERNAL_PORT');
  let tokenRotationOverlapMs: number;
  try {
    tokenRotationOverlapMs = tokenRotationOverlapMsFromEnv(env);
  } catch (err) {
    throw new GatewayConfigError((err as Error).message);
  }
  return {
    ...base,
    tokenRotationOverlapMs,
    cluster,
    redisNames: names,
    internalListener: internalPort === undefined ? undefined : { host: set(env.GATEWAY_INTERNAL_HOST) ?? base.host, port: internalPort },
    databaseUrl: set(env.DATABASE_URL),
    databaseSchema: schema,
    autoMigrate: set(env.GATEWAY_AUTO_MIGRATE) !== 'false',
    redisUrl: set(env.REDIS_URL),
    redisClusterNodes,
    resultStore,
    testMode,
    wsPath: new URL(base.wsUrl).pathname || '/ws',
    // Spread into createGateway's options by the host.
    orgMaxQueued: positiveInt(env, 'GATEWAY_ORG_MAX_QUEUED', 1) ?? 10_000,
  };
}

/**
 * `GATEWAY_RESULT_STORE`. A production gateway without Redis used to keep results in memory silently
 * and lose them on every restart (a worker then waited for its node's timeout): there it refuses to
 * start unless memory is asked for by name.
 */
function resultStoreFrom(env: Record<string, string | undefined>, hasRedis: boolean): 'redis' | 'memory' {
  const raw = set(env.GATEWAY_RESULT_STORE)?.toLowerCase();
  if (raw !== undefined && raw !== 'redis' && raw !== 'memory')
    throw new GatewayConfigError(`GATEWAY_RESULT_STORE must be "redis" or "memory", got "${raw.slice(0, 20)}"`);
  if (raw === 'redis' && !hasRedis) throw new GatewayConfigError('GATEWAY_RESULT_STORE=redis needs REDIS_URL or REDIS_CLUSTER_NODES');
  if (raw) return raw;
  if (hasRedis) return 'redis';
  if (env.NODE_ENV === 'production') {
    throw new GatewayConfigError(
      'NODE_ENV=production without REDIS_URL would keep results in memory and lose them on restart; set REDIS_URL (or REDIS_CLUSTER_NODES), or GATEWAY_RESULT_STORE=memory to accept that',
    );
  }
  return 'memory';
}
