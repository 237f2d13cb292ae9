import { type Logger, noopLogger, formatZodIssues } from '@vespid/protocol';
import { z } from 'zod';
import { DispatchError } from '../errors.js';
import type { TracingOption } from '../tracing.js';

/**
 * The runbook default of `GATEWAY_HTTP_URL`.
 *
 * @example
 * ```ts
 * process.env.GATEWAY_HTTP_URL ?? DEFAULT_GATEWAY_HTTP_URL; // 'http://localhost:3002'
 * ```
 */
export const DEFAULT_GATEWAY_HTTP_URL = 'http://localhost:3002';

const NOT_CONFIGURED = 'GATEWAY_HTTP_URL and GATEWAY_SERVICE_TOKEN must both be set to dispatch nodes to the gateway';

/**
 * Options of {@link createDispatchClient}.
 *
 * @example
 * ```ts
 * createDispatchClient({ gatewayHttpUrl: 'http://gateway:3002', serviceToken, connections: 16, requestTimeoutMs: 10_000 });
 * ```
 */
export interface DispatchClientOptions {
  /** Base URL of the gateway's HTTP listener, e.g. `http://localhost:3002` (a path prefix is kept). */
  gatewayHttpUrl: string;
  /** The service token sent as `Authorization: Bearer`. Never logged. */
  serviceToken: string;
  /** Pino-compatible logger. @default noopLogger */
  logger?: Logger;
  /** Keep-alive connections kept to the gateway. @default 16 */
  connections?: number;
  /** Timeout of calls that do not wait for execution (`dispatchAsync`, `cancel`, `getResult`). @default 10000 */
  requestTimeoutMs?: number;
  /** Extra time `dispatch()` (which waits) allows beyond the request's own `timeoutMs`. @default 5000 */
  waitMarginMs?: number;
  /** Largest response body accepted; bigger ones are `GATEWAY_RESPONSE_INVALID`. @default 16 MiB */
  maxResponseBytes?: number;
  /**
   * How `dispatch()` and `dispatchAsync()` reach the gateway. `'ws'`: over one persistent WebSocket to
   * the gateway's `/internal/v1/channel` (opened on first use, authenticated with the service token,
   * every call multiplexed on it, reconnected with backoff), falling back to the HTTP routes whenever it
   * is not open — a gateway without the channel answers its upgrade 404 and is asked again every 5
   * minutes. `'http'`: one HTTP request per call, as before. Results and error codes are the same
   * either way; `getResult()` and `cancel()` always use HTTP. Env: `GATEWAY_DISPATCH_CHANNEL`.
   * @default 'ws'
   */
  channel?: 'ws' | 'http';
  /**
   * A `vespid.dispatch` span per dispatch, its W3C context sent in the request's `trace` (the gateway
   * continues it). `true`: the global tracer provider; `{ tracerProvider }`: that one. Needs the
   * optional peer `@opentelemetry/api` (`OPTIONAL_DEPENDENCY_MISSING` otherwise). @default false
   */
  tracing?: TracingOption;
}

const schema = z.object({
  gatewayHttpUrl: z.string().trim().min(1),
  serviceToken: z.string().min(1),
  logger: z.custom<Logger>().optional(),
  connections: z.number().int().min(1).max(1024).default(16),
  requestTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  waitMarginMs: z.number().int().min(0).max(600_000).default(5_000),
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  tracing: z.custom<TracingOption>((v) => typeof v === 'boolean' || (!!v && typeof v === 'object')).optional(),
  channel: z.enum(['ws', 'http']).default('ws'),
});

/** Options with every default applied. */
export interface ResolvedDispatchClientOptions {
  origin: string;
  basePath: string;
  serviceToken: string;
  logger: Logger;
  connections: number;
  requestTimeoutMs: number;
  waitMarginMs: number;
  maxResponseBytes: number;
  tracing?: TracingOption | undefined;
  channel: 'ws' | 'http';
}

/** Validates options once; missing URL or token is `GATEWAY_NOT_CONFIGURED`, anything else `BAD_REQUEST`. */
export function resolveDispatchClientOptions(options: DispatchClientOptions): ResolvedDispatchClientOptions {
  if (!options?.gatewayHttpUrl?.trim() || !options.serviceToken) {
    throw new DispatchError('GATEWAY_NOT_CONFIGURED', NOT_CONFIGURED);
  }
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    throw new DispatchError('BAD_REQUEST', `invalid dispatch client option ${formatZodIssues(parsed.error, { max: 1 })}`);
  }
  let url: URL;
  try {
    url = new URL(parsed.data.gatewayHttpUrl);
  } catch {
    throw new DispatchError('GATEWAY_NOT_CONFIGURED', `GATEWAY_HTTP_URL is not a valid URL; ${NOT_CONFIGURED}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DispatchError('GATEWAY_NOT_CONFIGURED', `GATEWAY_HTTP_URL must be http:// or https://; ${NOT_CONFIGURED}`);
  }
  const { logger, ...rest } = parsed.data;
  return {
    ...rest,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    logger: logger ?? noopLogger,
  };
}

/**
 * Reads `GATEWAY_HTTP_URL` (default `http://localhost:3002`), `GATEWAY_SERVICE_TOKEN` (no default) and
 * `GATEWAY_DISPATCH_CHANNEL` (`ws` or `http`, default `ws`: see {@link DispatchClientOptions.channel}).
 * Throws `GATEWAY_NOT_CONFIGURED` naming both variables when the token is missing or the URL is empty.
 *
 * @example
 * ```ts
 * const options = dispatchClientOptionsFromEnv(process.env);
 * const client = createDispatchClient({ ...options, logger });
 * ```
 */
export function dispatchClientOptionsFromEnv(env: Record<string, string | undefined> = process.env): DispatchClientOptions {
  const url = env.GATEWAY_HTTP_URL === undefined ? DEFAULT_GATEWAY_HTTP_URL : env.GATEWAY_HTTP_URL.trim();
  const token = env.GATEWAY_SERVICE_TOKEN?.trim();
  if (!url || !token) throw new DispatchError('GATEWAY_NOT_CONFIGURED', NOT_CONFIGURED);
  const channel = env.GATEWAY_DISPATCH_CHANNEL?.trim().toLowerCase() || undefined;
  if (channel !== undefined && channel !== 'ws' && channel !== 'http') {
    throw new DispatchError('BAD_REQUEST', 'GATEWAY_DISPATCH_CHANNEL must be ws or http');
  }
  return { gatewayHttpUrl: url, serviceToken: token, ...(channel ? { channel } : {}) };
}
