import { formatZodIssues } from '@vespid/protocol';
import { z } from 'zod';
import { SELECTION_NAMES, type SelectionName } from './selection/strategy.js';

/**
 * The runbook's Gateway env vars, parsed.
 * @example
 * ```ts
 * const { port, host, serviceToken }: GatewayEnvConfig = gatewayOptionsFromEnv(process.env);
 * ```
 */
export interface GatewayEnvConfig {
  /** `GATEWAY_HOST` @default '0.0.0.0' */
  host: string;
  /** `GATEWAY_PORT` @default 3002 */
  port: number;
  /** `GATEWAY_LOG_LEVEL` @default 'info' */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** `GATEWAY_AGENT_STALE_MS` @default 60000 */
  staleMs: number;
  /** `GATEWAY_AGENT_SELECTION` @default 'least_in_flight_lru' */
  selection: SelectionName;
  /** `GATEWAY_SERVICE_TOKEN` (required outside tests; the host enforces that). */
  serviceToken: string | undefined;
  /** `GATEWAY_HTTP_URL` @default 'http://localhost:3002' */
  httpUrl: string;
  /** `GATEWAY_WS_URL` @default 'ws://localhost:3002/ws' */
  wsUrl: string;
  /** `GATEWAY_RESULTS_TTL_SEC` @default 900 */
  resultsTtlSec: number;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  GATEWAY_HOST: z.string().min(1).default('0.0.0.0'),
  GATEWAY_PORT: int(0, 65535).default(3002),
  GATEWAY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  GATEWAY_AGENT_STALE_MS: int(100, 24 * 3600 * 1000).default(60_000),
  GATEWAY_AGENT_SELECTION: z.enum(SELECTION_NAMES).default('least_in_flight_lru'),
  GATEWAY_SERVICE_TOKEN: z.string().min(1).optional(),
  GATEWAY_HTTP_URL: z.url().default('http://localhost:3002'),
  GATEWAY_WS_URL: z.url().default('ws://localhost:3002/ws'),
  GATEWAY_RESULTS_TTL_SEC: int(1, 30 * 24 * 3600).default(900),
});

/**
 * Reads the runbook's Gateway env vars with their defaults. Empty strings count as unset. Throws a
 * TypeError naming the variable when a value is invalid (never echoing `GATEWAY_SERVICE_TOKEN`).
 * The result can be spread into `createGateway` (unknown keys such as `host` are ignored there).
 *
 * @example
 * ```ts
 * const env = gatewayOptionsFromEnv(process.env);
 * const gateway = createGateway({ ...env, authenticator });
 * server.listen(env.port, env.host);
 * ```
 */
export function gatewayOptionsFromEnv(env: Record<string, string | undefined>): GatewayEnvConfig {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') cleaned[key] = v.trim();
  }
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    // Messages name the variable only: a zod message could quote the (secret) value.
    throw new TypeError(`invalid gateway environment: ${formatZodIssues(parsed.error, { show: 'paths', max: 20 })}`);
  }
  const e = parsed.data;
  return {
    host: e.GATEWAY_HOST,
    port: e.GATEWAY_PORT,
    logLevel: e.GATEWAY_LOG_LEVEL,
    staleMs: e.GATEWAY_AGENT_STALE_MS,
    selection: e.GATEWAY_AGENT_SELECTION,
    serviceToken: e.GATEWAY_SERVICE_TOKEN,
    httpUrl: e.GATEWAY_HTTP_URL,
    wsUrl: e.GATEWAY_WS_URL,
    resultsTtlSec: e.GATEWAY_RESULTS_TTL_SEC,
  };
}
