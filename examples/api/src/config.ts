import { z } from 'zod';
import { DEFAULT_TOKEN_ROTATION_OVERLAP_MS, formatZodIssues } from '@vespid/protocol';
import { ApiError } from './errors.js';

/**
 * Bounds of `GATEWAY_AGENT_STALE_MS` for the online/offline view (runbook: "clamped").
 *
 * @example
 * ```ts
 * const staleMs = Math.min(STALE_MS_MAX, Math.max(STALE_MS_MIN, requested));
 * ```
 */
export const STALE_MS_MIN = 30_000;
/** Upper bound of the stale threshold (5 min). @example `STALE_MS_MAX === 300_000` */
export const STALE_MS_MAX = 5 * 60_000;

/** Pairing tokens live 15 minutes (runbook). @example `new Date(Date.now() + PAIRING_TOKEN_TTL_MS)` */
export const PAIRING_TOKEN_TTL_MS = 15 * 60_000;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Resolved api host configuration. Defaults are applied once, here.
 *
 * @example
 * ```ts
 * const config = ApiConfigSchema.parse({ gatewayWsUrl: 'ws://gw:3002/ws' });
 * ```
 */
export const ApiConfigSchema = z.object({
  /** @default 0.0.0.0 */
  host: z.string().min(1).default('0.0.0.0'),
  /** @default 3001 */
  port: int(0, 65_535).default(3001),
  /** @default 'info' */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Returned to agents by the pairing exchange. @default ws://localhost:3002/ws */
  gatewayWsUrl: z.string().url().default('ws://localhost:3002/ws'),
  /** Online/offline threshold; clamped to [30 s, 5 min]. @default 60000 */
  agentStaleMs: z.coerce
    .number()
    .int()
    .default(60_000)
    .transform((v) => Math.min(STALE_MS_MAX, Math.max(STALE_MS_MIN, v))),
  /** Requests per minute per client address on authenticated routes. @default 300 */
  rateLimitMax: int(1, 1_000_000).default(300),
  /** Requests per minute per client address on the unauthenticated pairing exchange. @default 10 */
  pairRateLimitMax: int(1, 1_000_000).default(10),
  /** Rate-limit window. @default 60000 */
  rateLimitWindowMs: int(1000, 3_600_000).default(60_000),
  /** Trust X-Forwarded-For (behind a reverse proxy) for the per-address limits. @default false */
  trustProxy: z.boolean().default(false),
  /**
   * Public base URL of this api, used as `--api-base` in the `/agents` page's connect command. Unset:
   * the page uses the origin it was loaded from (right whenever browsers and agents reach the same URL).
   */
  publicUrl: z
    .string()
    .url()
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** Gateway base URL for live session data (`GET /internal/v1/sessions`). @default http://localhost:3002 */
  gatewayHttpUrl: z.string().url().default('http://localhost:3002'),
  /**
   * `AGENT_TOKEN_ROTATION_OVERLAP_MS`: after a rotation request an agent's current token keeps working
   * this long (so an offline agent can still connect and be rotated), then it is refused. @default 86400000 (24 h)
   */
  tokenRotationOverlapMs: int(0, 365 * 24 * 3_600_000).default(DEFAULT_TOKEN_ROTATION_OVERLAP_MS),
});
/** Resolved config. */
export type ApiConfig = z.output<typeof ApiConfigSchema>;
/** Config as accepted by {@link resolveApiConfig} (every field optional). */
export type ApiConfigInput = z.input<typeof ApiConfigSchema>;

/**
 * Validates options and applies defaults; throws `BAD_REQUEST` naming the invalid fields.
 *
 * @example
 * ```ts
 * const config = resolveApiConfig({ port: 0 });
 * ```
 */
export function resolveApiConfig(input: ApiConfigInput = {}): ApiConfig {
  const parsed = ApiConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ApiError('BAD_REQUEST', `invalid api config: ${formatZodIssues(parsed.error, { max: 10 })}`);
  }
  return parsed.data;
}

/** Environment of the api host (runbook names plus API_*). */
export interface ApiEnv {
  API_HOST?: string;
  API_PORT?: string;
  API_LOG_LEVEL?: string;
  GATEWAY_WS_URL?: string;
  GATEWAY_AGENT_STALE_MS?: string;
  API_RATE_LIMIT_MAX?: string;
  API_PAIR_RATE_LIMIT_MAX?: string;
  API_TRUST_PROXY?: string;
  API_PUBLIC_URL?: string;
  GATEWAY_HTTP_URL?: string;
  GATEWAY_SERVICE_TOKEN?: string;
  AGENT_TOKEN_ROTATION_OVERLAP_MS?: string;
  [key: string]: string | undefined;
}

const set = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

/**
 * Reads the api config from the environment: `API_HOST` (0.0.0.0), `API_PORT` (3001), `API_LOG_LEVEL`
 * (info), `GATEWAY_WS_URL` (ws://localhost:3002/ws), `GATEWAY_AGENT_STALE_MS` (60000, clamped),
 * `API_RATE_LIMIT_MAX` (300/min), `API_PAIR_RATE_LIMIT_MAX` (10/min), `API_TRUST_PROXY` (false),
 * `API_PUBLIC_URL` (unset: the page's own origin), `GATEWAY_HTTP_URL` (http://localhost:3002). The
 * service token (`GATEWAY_SERVICE_TOKEN`) is deliberately not part of the config: see `liveSessionsFromEnv`.
 *
 * @example
 * ```ts
 * const config = apiConfigFromEnv(process.env);
 * ```
 */
export function apiConfigFromEnv(env: ApiEnv): ApiConfig {
  return resolveApiConfig({
    host: set(env.API_HOST),
    port: set(env.API_PORT),
    logLevel: set(env.API_LOG_LEVEL) as ApiConfig['logLevel'] | undefined,
    gatewayWsUrl: set(env.GATEWAY_WS_URL),
    agentStaleMs: set(env.GATEWAY_AGENT_STALE_MS),
    rateLimitMax: set(env.API_RATE_LIMIT_MAX),
    pairRateLimitMax: set(env.API_PAIR_RATE_LIMIT_MAX),
    trustProxy: set(env.API_TRUST_PROXY) === undefined ? undefined : env.API_TRUST_PROXY === 'true' || env.API_TRUST_PROXY === '1',
    publicUrl: set(env.API_PUBLIC_URL),
    gatewayHttpUrl: set(env.GATEWAY_HTTP_URL),
    tokenRotationOverlapMs: set(env.AGENT_TOKEN_ROTATION_OVERLAP_MS),
  });
}
