import {
  type CancelResponse,
  CancelResponseSchema,
  type DispatchAsyncResponse,
  DispatchAsyncResponseSchema,
  type DispatchRequest,
  type DispatchRequestInput,
  DispatchRequestSchema,
  type DispatchResponse,
  DispatchResponseSchema,
  ErrorBodySchema,
  ROUTES,
  type StoredResult,
  StoredResultSchema,
  formatZodIssues,
} from '@vespid/protocol';
import type { z } from 'zod';
import { DispatchError } from '../errors.js';
import { type ChannelCall, type ChannelState, DispatchChannel } from './channel.js';
import { GatewayHttp, type HttpAnswer } from './http.js';
import { type DispatchClientOptions, dispatchClientOptionsFromEnv, resolveDispatchClientOptions } from './options.js';
import { createDispatchTracing } from '../tracing.js';

/**
 * Per-call options.
 *
 * @example
 * ```ts
 * await client.dispatch(request, { signal: AbortSignal.timeout(5000) });
 * ```
 */
export interface CallOptions {
  /** Aborts the HTTP call (`TASK_CANCELLED`). */
  signal?: AbortSignal;
}

/**
 * The worker → gateway client.
 *
 * @example
 * ```ts
 * const result = await client.getResult('run7:fetch:0'); // null until ready
 * ```
 */
export interface DispatchClient {
  /**
   * Sends a request and waits for its result (`POST /internal/v1/dispatch`), like `gateway.dispatch()`.
   * The HTTP call may take up to `queueTimeoutMs + timeoutMs + waitMarginMs`.
   */
  dispatch(request: DispatchRequestInput, options?: CallOptions): Promise<DispatchResponse>;
  /**
   * Sends a request without waiting for its execution (`POST /internal/v1/dispatch-async`), like
   * `gateway.dispatchAsync()`; fetch the result later with {@link DispatchClient.getResult}. Idempotent per `requestId`.
   * With `queueTimeoutMs` and no eligible agent the answer is `{dispatched: false, queued: true, position, explanation}`
   * (HTTP 202): the gateway assigns it when capacity appears, or stores `NO_AGENT_AVAILABLE` at the queue timeout.
   */
  dispatchAsync(request: DispatchRequestInput, options?: CallOptions): Promise<DispatchAsyncResponse>;
  /** Withdraws a request still waiting in the gateway's queue (`POST /internal/v1/cancel`); `cancelled: false` if it is not queued. */
  cancel(request: { organizationId: string; requestId: string }, options?: CallOptions): Promise<CancelResponse>;
  /** The stored result of a request, or `null` while it is not ready (`RESULT_NOT_READY`). */
  getResult(requestId: string, options?: CallOptions): Promise<StoredResult | null>;
  /** `'open'` until {@link DispatchClient.close}. */
  readonly state: 'open' | 'closed';
  /**
   * The dispatch channel (option `channel`): `'open'` while `dispatch()`/`dispatchAsync()` go over it;
   * `'disabled'` with `channel: 'http'`; otherwise calls use HTTP for now (`'idle'` before the first
   * call, `'connecting'`, `'down'` between reconnects or when the gateway has no channel, `'draining'`,
   * `'closed'`). Optional so that hand-written clients (test doubles) need not have it.
   */
  readonly channelState?: 'disabled' | ChannelState;
  readonly closed: boolean;
  /**
   * Closes the keep-alive pool and the dispatch channel: waits for running calls up to `timeoutMs`
   * (default 5000), then destroys them (calls still running fail with retryable `GATEWAY_UNAVAILABLE`).
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A dispatch-async answer as a span outcome. */
const asyncOutcome = (a: DispatchAsyncResponse): string =>
  a.dispatched ? 'dispatched' : a.queued ? 'queued' : a.cached ? 'cached' : a.inFlight ? 'in_flight' : 'accepted';

/**
 * Requests this package has just built from a successful `DispatchRequestSchema` parse (the runner's
 * `block()` validates a node request before it stores the cursor): the client sends them without
 * parsing them a second time. Internal, never exported from the package.
 */
const validated = new WeakSet<object>();

/** Marks a request that came out of `DispatchRequestSchema` unchanged (see `validated`). */
export function asValidatedRequest(request: DispatchRequest): DispatchRequest {
  validated.add(request);
  return request;
}

function validRequest(input: DispatchRequestInput): DispatchRequest {
  if (validated.has(input)) return input as DispatchRequest;
  const parsed = DispatchRequestSchema.safeParse(input);
  if (!parsed.success) {
    // Paths and messages only, never values, so a secret cannot leak through them.
    throw new DispatchError('BAD_REQUEST', `invalid dispatch request: ${formatZodIssues(parsed.error, { max: 3 })}`);
  }
  return parsed.data;
}

/**
 * Creates the keep-alive HTTP client a worker uses to reach the gateway's internal API.
 * Errors are {@link DispatchError}s: `GATEWAY_NOT_CONFIGURED` (missing URL/token, thrown here),
 * `GATEWAY_UNAVAILABLE` (unreachable, retryable), `NO_AGENT_AVAILABLE` (503), `UNAUTHORIZED` (401),
 * `GATEWAY_RESPONSE_INVALID` (not protocol v1).
 *
 * @example
 * ```ts
 * const client = createDispatchClient({ gatewayHttpUrl: 'http://localhost:3002', serviceToken });
 * const requestId = requestIdFor({ runId, nodeId, attempt: 0 });
 * const { status, output } = await client.dispatch({ organizationId, requestId, kind: 'connector.action', payload, timeoutMs: 60_000 });
 * // or without waiting: send now, read the result later
 * await client.dispatchAsync({ organizationId, requestId: requestIdFor({ runId, nodeId, attempt: 1 }), kind: 'connector.action', payload });
 * const later = await client.getResult(requestIdFor({ runId, nodeId, attempt: 1 })); // null until the agent answered
 * await client.close();
 * ```
 */
export function createDispatchClient(options: DispatchClientOptions): DispatchClient {
  const opts = resolveDispatchClientOptions(options);
  const http = new GatewayHttp(opts);
  // Null with `channel: 'http'`: every call is one HTTP request.
  const channel = opts.channel === 'ws' ? new DispatchChannel(opts, (text) => http.scrub(text)) : null;
  const logger = opts.logger;
  // Null unless `tracing` is on: loads @opentelemetry/api then, and only then.
  const tracing = createDispatchTracing(opts.tracing);
  let state: 'open' | 'closed' = 'open';
  let closing: Promise<void> | undefined;

  function ensureOpen(): void {
    if (state === 'closed') throw new DispatchError('INTERNAL_ERROR', 'dispatch client is closed', { retryable: false });
  }

  function parseBody<T>(schema: z.ZodType<T>, answer: HttpAnswer, route: string): T {
    const parsed = schema.safeParse(answer.body);
    if (!parsed.success) {
      throw new DispatchError('GATEWAY_RESPONSE_INVALID', `${route}: HTTP ${answer.status} body is not a protocol v1 response`);
    }
    return parsed.data;
  }

  function checkId(got: string, want: string, route: string): void {
    if (got !== want) throw new DispatchError('GATEWAY_RESPONSE_INVALID', `${route}: answered for another request id`);
  }

  /**
   * Runs one dispatch call inside a `vespid.dispatch` span (when tracing): the request continues the
   * caller's `trace` (or the active context) and carries the span's own context to the gateway.
   */
  async function traced<T>(request: DispatchRequest, call: (request: DispatchRequest) => Promise<T>, outcome: (value: T) => string) {
    if (!tracing) return call(request);
    const facts = { requestId: request.requestId, organizationId: request.organizationId, kind: request.kind };
    const span = tracing.start('vespid.dispatch', facts, request.trace);
    try {
      const value = await call(span.trace ? { ...request, trace: span.trace } : request);
      span.end(outcome(value));
      return value;
    } catch (err) {
      span.end('error', err);
      throw err;
    }
  }

  /** POSTs a dispatch over the channel when it can carry it, else over HTTP: the same answer either way. */
  async function post(path: string, type: 'dispatch' | 'dispatch_async', request: DispatchRequest, call: ChannelCall): Promise<HttpAnswer> {
    const viaChannel = channel ? await channel.request(type, request, call) : undefined;
    return viaChannel ?? http.call({ method: 'POST', path, body: request, timeoutMs: call.timeoutMs, signal: call.signal });
  }

  async function dispatchAsync(input: DispatchRequestInput, call: CallOptions = {}): Promise<DispatchAsyncResponse> {
    ensureOpen();
    return traced(validRequest(input), (request) => dispatchAsyncValid(request, call), asyncOutcome);
  }

  async function dispatchAsyncValid(request: DispatchRequest, call: CallOptions): Promise<DispatchAsyncResponse> {
    const route = `POST ${ROUTES.dispatchAsync}`;
    const answer = await post(ROUTES.dispatchAsync, 'dispatch_async', request, {
      route,
      timeoutMs: opts.requestTimeoutMs,
      signal: call.signal,
    });
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 202) throw http.errorFrom(answer, route);
    const body = parseBody(DispatchAsyncResponseSchema, answer, route);
    checkId(body.requestId, request.requestId, route);
    logger.debug(
      { requestId: request.requestId, dispatched: body.dispatched, cached: body.cached ?? false, queued: body.queued ?? false },
      'dispatched',
    );
    return body;
  }

  async function cancel(target: { organizationId: string; requestId: string }, call: CallOptions = {}): Promise<CancelResponse> {
    ensureOpen();
    const route = `POST ${ROUTES.cancel}`;
    const answer = await http.call({
      method: 'POST',
      path: ROUTES.cancel,
      body: { organizationId: target.organizationId, requestId: target.requestId },
      timeoutMs: opts.requestTimeoutMs,
      signal: call.signal,
    });
    if (answer.status !== 200) throw http.errorFrom(answer, route);
    const body = parseBody(CancelResponseSchema, answer, route);
    checkId(body.requestId, target.requestId, route);
    return body;
  }

  async function dispatch(input: DispatchRequestInput, call: CallOptions = {}): Promise<DispatchResponse> {
    ensureOpen();
    return traced(
      validRequest(input),
      (request) => dispatchValid(request, call),
      (r) => r.status,
    );
  }

  async function dispatchValid(request: DispatchRequest, call: CallOptions): Promise<DispatchResponse> {
    const route = `POST ${ROUTES.dispatch}`;
    const answer = await post(ROUTES.dispatch, 'dispatch', request, {
      route,
      // A queued request may wait up to queueTimeoutMs for an agent before its execution time starts.
      timeoutMs: (request.queueTimeoutMs ?? 0) + request.timeoutMs + opts.waitMarginMs,
      signal: call.signal,
    });
    if (answer.status !== 200) throw http.errorFrom(answer, route);
    const body = parseBody(DispatchResponseSchema, answer, route);
    checkId(body.requestId, request.requestId, route);
    return body;
  }

  async function getResult(requestId: string, call: CallOptions = {}): Promise<StoredResult | null> {
    ensureOpen();
    const path = `${ROUTES.results}/${encodeURIComponent(requestId)}`;
    const route = `GET ${ROUTES.results}/:requestId`;
    const answer = await http.call({ method: 'GET', path, timeoutMs: opts.requestTimeoutMs, signal: call.signal });
    if (answer.status === 404) {
      const err = ErrorBodySchema.safeParse(answer.body);
      if (err.success && err.data.code === 'RESULT_NOT_READY') return null;
      throw http.errorFrom(answer, route);
    }
    if (answer.status !== 200) throw http.errorFrom(answer, route);
    const body = parseBody(StoredResultSchema, answer, route);
    checkId(body.requestId, requestId, route);
    return body;
  }

  async function close(closeOptions: { timeoutMs?: number } = {}): Promise<void> {
    state = 'closed';
    closing ??= (async () => {
      const timeoutMs = closeOptions.timeoutMs ?? 5_000;
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const graceful = Promise.all([http.close(), channel?.close()]).then(() => 'closed' as const);
      const outcome = await Promise.race([graceful, forced]);
      clearTimeout(timer);
      if (outcome === 'timeout') await Promise.all([http.destroy(), channel?.close(true)]);
    })();
    return closing;
  }

  return {
    dispatch,
    dispatchAsync,
    cancel,
    getResult,
    get state() {
      return state;
    },
    get channelState() {
      return channel ? channel.state : 'disabled';
    },
    get closed() {
      return state === 'closed';
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

/**
 * Options of {@link dispatchClientFromEnv} beyond the two env vars.
 *
 * @example
 * ```ts
 * dispatchClientFromEnv(process.env, { logger, connections: 32, unconfigured: 'fail-calls' });
 * ```
 */
export interface DispatchClientFromEnvOptions extends Omit<Partial<DispatchClientOptions>, 'gatewayHttpUrl' | 'serviceToken'> {
  /**
   * What a missing `GATEWAY_SERVICE_TOKEN` / empty `GATEWAY_HTTP_URL` does: `'throw'` here, or
   * `'fail-calls'`: return a client whose every call rejects with `GATEWAY_NOT_CONFIGURED`, so a worker
   * still runs its cloud nodes and fails only the `execution.mode = "node"` ones with that code.
   * @default 'throw'
   */
  unconfigured?: 'throw' | 'fail-calls';
}

/**
 * {@link createDispatchClient} configured from `GATEWAY_HTTP_URL` (default `http://localhost:3002`) and
 * `GATEWAY_SERVICE_TOKEN`. Throws `GATEWAY_NOT_CONFIGURED` (naming both variables) when the token is
 * missing or the URL empty, unless `unconfigured: 'fail-calls'`.
 *
 * @example
 * ```ts
 * const client = dispatchClientFromEnv(process.env, { logger, unconfigured: 'fail-calls' });
 * ```
 */
export function dispatchClientFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: DispatchClientFromEnvOptions = {},
): DispatchClient {
  const { unconfigured = 'throw', ...overrides } = options;
  let fromEnv: DispatchClientOptions;
  try {
    fromEnv = dispatchClientOptionsFromEnv(env);
  } catch (err) {
    if (unconfigured === 'throw') throw err;
    return failingClient(err as DispatchError);
  }
  return createDispatchClient({ ...overrides, ...fromEnv });
}

/** A client whose every call rejects with `error` (used for a worker without gateway configuration). */
function failingClient(error: DispatchError): DispatchClient {
  let state: 'open' | 'closed' = 'open';
  const fail = async (): Promise<never> => {
    throw new DispatchError(error.code, error.message, { retryable: false });
  };
  return {
    dispatch: fail,
    dispatchAsync: fail,
    cancel: fail,
    getResult: fail,
    get state() {
      return state;
    },
    channelState: 'disabled',
    get closed() {
      return state === 'closed';
    },
    async close() {
      state = 'closed';
    },
    async [Symbol.asyncDispose]() {
      state = 'closed';
    },
  };
}
