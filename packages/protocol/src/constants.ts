/**
 * The wire protocol version spoken by this package. Sent in `hello` and checked by the gateway.
 *
 * @example
 * ```ts
 * if (hello.protocol !== PROTOCOL_VERSION) socket.close(CloseCode.ProtocolViolation, 'unsupported protocol');
 * ```
 */
export const PROTOCOL_VERSION = 1 as const;

/**
 * Default WebSocket `maxPayload` (1 MiB). Frames above it close the session with 1009.
 *
 * @example
 * ```ts
 * new WebSocketServer({ noServer: true, maxPayload: DEFAULT_MAX_PAYLOAD_BYTES });
 * ```
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Default per-agent concurrency when `hello` does not report `maxInFlight`.
 *
 * @example
 * ```ts
 * const cap = Math.min(hello.capabilities.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, agent.maxInFlight ?? Infinity);
 * ```
 */
export const DEFAULT_MAX_IN_FLIGHT = 10;

/**
 * Default execution timeout for a dispatched request (matches `NODE_EXEC_TIMEOUT_MS`).
 *
 * @example
 * ```ts
 * const deadline = Date.now() + (request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Upper bound for any request timeout: one day. Longer work belongs in a job system, not a blocked request.
 *
 * @example
 * ```ts
 * const timeoutMs = Math.min(requested, MAX_TIMEOUT_MS);
 * ```
 */
export const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * Redis key prefix under which the gateway stores results: `gateway:results:<requestId>`.
 *
 * @example
 * ```ts
 * const stored = await redis.get(`${RESULT_KEY_PREFIX}${requestId}`);
 * ```
 */
export const RESULT_KEY_PREFIX = 'gateway:results:';

/**
 * Redis pub/sub channel on which the gateway publishes each stored result.
 *
 * @example
 * ```ts
 * await subscriber.subscribe(RESULT_CHANNEL);
 * ```
 */
export const RESULT_CHANNEL = 'gateway:results';

/**
 * Internal HTTP routes of the gateway (worker → gateway, service token required).
 *
 * @example
 * ```ts
 * await fetch(`${gatewayHttpUrl}${ROUTES.dispatchAsync}`, { method: 'POST', headers, body });
 * ```
 */
export const ROUTES = {
  dispatch: '/internal/v1/dispatch',
  dispatchAsync: '/internal/v1/dispatch-async',
  results: '/internal/v1/results',
  explain: '/internal/v1/explain',
  /** `GET ?organizationId=` — live agent sessions of one organization. */
  sessions: '/internal/v1/sessions',
  /** `POST {organizationId, requestId}` — withdraws a request still waiting in the queue. */
  cancel: '/internal/v1/cancel',
  /** WebSocket upgrade — the persistent dispatch channel (`dispatch` / `dispatch_async` frames), an optimisation of the two dispatch routes. */
  channel: '/internal/v1/channel',
} as const;

/**
 * Size limits applied by the schemas. They bound memory per frame, not only per byte.
 *
 * @example
 * ```ts
 * const tags = requested.slice(0, LIMITS.tagsPerAgent);
 * ```
 */
export const LIMITS = {
  idLength: 256,
  nameLength: 200,
  tagLength: 128,
  tagsPerAgent: 64,
  kindsPerAgent: 32,
  connectorsPerAgent: 256,
  reasonLength: 1024,
  errorMessageLength: 8192,
  secretLength: 64 * 1024,
  maxInFlight: 10_000,
} as const;
