import { type GatewayEnvConfig, gatewayOptionsFromEnv } from '@vespid/sdk-gateway';

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
  /** `NODE_ENV === 'test'`: the only case in which `GATEWAY_SERVICE_TOKEN` may be missing. */
  testMode: boolean;
  /** The WebSocket path, taken from `GATEWAY_WS_URL` (default `/ws`). */
  wsPath: string;
}

/** A startup error whose message is one clear line for the operator. */
export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError';
}

const set = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * Reads the runbook's Gateway variables (via `gatewayOptionsFromEnv`) plus `DATABASE_URL`,
 * `DATABASE_SCHEMA`, `REDIS_URL` and `NODE_ENV`. Refuses to run without `GATEWAY_SERVICE_TOKEN`
 * unless `NODE_ENV=test`.
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
  return {
    ...base,
    databaseUrl: set(env.DATABASE_URL),
    databaseSchema: schema,
    autoMigrate: set(env.GATEWAY_AUTO_MIGRATE) !== 'false',
    redisUrl: set(env.REDIS_URL),
    testMode,
    wsPath: new URL(base.wsUrl).pathname || '/ws',
  };
}
