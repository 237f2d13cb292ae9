import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { DestinationPolicy } from '../destination-policy.js';
import { connectorDispatcher, requestCapped } from './http-client.js';
import { type Connector, defineAction, defineConnector } from './registry.js';

/**
 * Options of {@link httpConnector}.
 *
 * @example
 * ```ts
 * httpConnector({ maxResponseBytes: 256 * 1024, timeoutMs: 10_000, dispatcher: new EnvHttpProxyAgent() });
 * ```
 */
export interface HttpConnectorOptions {
  /** Response body cap in bytes. @default 1048576 */
  maxResponseBytes?: number;
  /** Per-request timeout (also the upper bound of the input's `timeoutMs`). @default 30000 */
  timeoutMs?: number;
  /** undici dispatcher (e.g. `new EnvHttpProxyAgent()` for corporate proxies). @default undici's global dispatcher */
  dispatcher?: Dispatcher;
  /**
   * Where requests may connect, checked on the resolved address of every connection (see
   * `createDestinationPolicy`); a refused one fails with `DESTINATION_NOT_ALLOWED` before any
   * packet reaches it. Exclusive with `dispatcher`. Hosts that run untrusted workflows in their own
   * network (the worker's cloud mode) must set it. @default unset: every destination is reachable
   */
  destinations?: DestinationPolicy;
}

const OptionsSchema = z.strictObject({
  maxResponseBytes: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  timeoutMs: z.number().int().min(1).max(600_000).default(30_000),
  dispatcher: z.custom<Dispatcher>().optional(),
  destinations: z.custom<DestinationPolicy>((v) => typeof v === 'object' && v !== null && 'check' in v).optional(),
});

const HttpRequestInput = z.strictObject({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string().min(1).max(256), z.string().max(8192)).optional(),
  /** A string is sent as-is; anything else is sent as JSON. */
  body: z.unknown().optional(),
  timeoutMs: z.number().int().min(1).optional(),
});

/**
 * The `http` connector. Action `request`: `{method, url, headers?, body?, timeoutMs?}` →
 * `{status, headers, body, json?}`. Non-2xx statuses are returned, not thrown (the workflow decides).
 * If the node carries a secret and no `authorization` header is given, it is sent as a bearer token.
 * Redirects are not followed (a 3xx is the result). Errors: `HTTP_REQUEST_FAILED` (network, timeout),
 * `HTTP_RESPONSE_TOO_LARGE`, `DESTINATION_NOT_ALLOWED` (with `destinations`).
 *
 * @example
 * ```ts
 * connectorActionExecutor({ connectors: [httpConnector({ destinations: createDestinationPolicy({ allow: ['public'] }) })] });
 * ```
 */
export function httpConnector(options: HttpConnectorOptions = {}): Connector {
  const opts = OptionsSchema.parse(options);
  const dispatcher = connectorDispatcher('http', opts.dispatcher, opts.destinations);
  const request = defineAction({
    id: 'request',
    input: HttpRequestInput,
    async run(input, ctx) {
      const headers: Record<string, string> = { ...input.headers };
      let body: string | undefined;
      if (input.body !== undefined) {
        body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
        if (typeof input.body !== 'string' && !hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
      }
      if (ctx.secret && !hasHeader(headers, 'authorization')) headers.authorization = `Bearer ${ctx.secret}`;
      const res = await requestCapped(input.url, {
        method: input.method,
        headers,
        body,
        maxBytes: opts.maxResponseBytes,
        timeoutMs: Math.min(input.timeoutMs ?? opts.timeoutMs, opts.timeoutMs),
        signal: ctx.signal,
        dispatcher,
        failureCode: 'HTTP_REQUEST_FAILED',
      });
      const out: { status: number; headers: Record<string, string>; body: string; json?: unknown } = res;
      if (/\bjson\b/i.test(res.headers['content-type'] ?? '')) {
        try {
          out.json = JSON.parse(res.body);
        } catch {
          // Not JSON after all: the raw body is still returned.
        }
      }
      return out;
    },
  });
  return defineConnector({ id: 'http', actions: [request as never] });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}
