import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  type DispatchRequest,
  type DispatchRequestInput,
  DispatchRequestSchema,
  ROUTES,
  RequestIdSchema,
  type StoredResult,
  encodeMessage,
  formatZodIssues,
  type ZodIssueLike,
} from '@vespid/protocol';
import { ChannelAdapter } from './adapters/channel-adapter.js';
import { type InternalRequest, type InternalResponse, createHttpHandler, handleInternal } from './adapters/http-adapter.js';
import { WsAdapter } from './adapters/ws-adapter.js';
import type { AuthenticatedAgent } from './authenticator.js';
import { type Explanation, type RoutingRequest, explainRouting } from './selection/candidates.js';
import type { AgentConnection, ConnectionHandle } from './core/connection.js';
import { Dispatcher } from './core/dispatcher.js';
import { errText } from './core/err-text.js';
import { Registry } from './core/registry.js';
import { SessionManager } from './core/sessions.js';
import { type RotationOutcome, TokenRotations } from './core/token-rotation.js';
import { GatewayError } from './errors.js';
import { type GatewayEvents, gatewayEvents } from './gateway-events.js';
import type { DispatchAsyncOutcome, GatewayState, QueueInfo, SessionInfo } from './gateway-types.js';
import { type GatewayOptions, resolveGatewayOptions } from './options.js';
import { isValidatedDispatchRequest } from './dispatch-request.js';
import { memoryResultStore } from './results/result-store.js';
import { SELECTION_NAMES, isSelectionName } from './selection/strategy.js';
import { type RequestTrace, createGatewayTracing } from './tracing.js';

/** The answer of `dispatchAsync` as a span outcome. */
const asyncOutcome = (a: DispatchAsyncOutcome): string =>
  a.dispatched ? 'dispatched' : 'queued' in a ? 'queued' : 'cached' in a ? 'cached' : 'in_flight';

/**
 * The object returned by {@link createGateway}.
 * @example
 * ```ts
 * await using gateway = createGateway({ authenticator, serviceToken });
 * const result = await gateway.dispatch({ organizationId, requestId, kind: 'agent.execute', payload });
 * ```
 */
export interface Gateway extends AsyncDisposable {
  /**
   * Starts what can fail: in cluster mode, the cluster's subscription and presence refresh; until it
   * resolves, a cluster gateway refuses upgrades (503), `connect()` and dispatches. Rejects with the
   * cluster's error, so a host fails at boot instead of logging and serving half a gateway. Idempotent.
   * Without a cluster it resolves at once (the gateway runs from `createGateway`).
   */
  start(): Promise<void>;
  /**
   * Listens to an observational event (agent connected/disconnected, liveness, request queued,
   * dispatched, settled); returns the function that removes the listener. The agent runtime's `on()`.
   */
  on<K extends keyof GatewayEvents>(event: K, listener: (payload: GatewayEvents[K]) => unknown): () => void;
  /** Removes a listener added with {@link Gateway.on}. */
  off<K extends keyof GatewayEvents>(event: K, listener: (payload: GatewayEvents[K]) => unknown): void;
  /** Handles `upgrade` events of `server` for `path` (default `/ws`) only. Returns a detach function. */
  attach(server: Server, options?: { path?: string }): () => void;
  /** Handles one upgrade request (auth first, then WebSocket). For hosts that route upgrades themselves. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Serves the internal dispatch channel (`/internal/v1/channel`, a WebSocket authenticated with the
   * service token) on `server`: `@vespid/sdk-dispatch` sends its dispatches over it instead of one HTTP
   * request each, with the same semantics. Attach it where `httpHandler` serves the internal routes (the
   * internal listener), never on a public one. Returns a detach function.
   */
  attachChannel(server: Server, options?: { path?: string }): () => void;
  /** Handles one dispatch-channel upgrade request (service token first). For hosts that route upgrades themselves. */
  handleChannelUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** `(req, res, next?)` for the internal routes; usable in node:http, Express and Fastify (raw req/res). */
  httpHandler: (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next?: (err?: unknown) => void) => void;
  /** Framework-neutral form of the internal routes, for frameworks that parse bodies themselves. */
  handleInternalRequest(req: InternalRequest): Promise<InternalResponse>;
  /** Transport-neutral entry for a connection already authenticated (custom transports, tests). */
  connect(connection: AgentConnection, agent: AuthenticatedAgent): ConnectionHandle;
  /** Dispatches and waits for the result (idempotent by requestId: a cached result returns at once). */
  dispatch(request: DispatchRequestInput, options?: { signal?: AbortSignal }): Promise<StoredResult>;
  /** Dispatches without waiting; the result lands in the result store (and its publication). */
  dispatchAsync(request: DispatchRequestInput): Promise<DispatchAsyncOutcome>;
  /** The stored result, or null. */
  getResult(requestId: string): Promise<StoredResult | null>;
  /**
   * Dry run: where would this request run now, and if nowhere, which filter excluded how many agents.
   * `queue` reports the organization's queue depth and, given a `requestId`, its position.
   */
  explain(request: RoutingRequest & { requestId?: string }): Explanation & { queue: QueueInfo };
  /**
   * Capacity may have appeared in the organization outside the agent protocol (an agent approved or
   * resumed by the control plane): assigns its queued requests now. Hello, freed slots and tag changes
   * call it already.
   */
  notifyCapacity(organizationId: string): void;
  /** Withdraws a request still waiting in the queue (its callers get `TASK_CANCELLED`); false if it is not queued. */
  cancelQueued(requestId: string, organizationId?: string): boolean;
  /** Closes the agent's sessions at once (4403); it is never selected again by this gateway. */
  revokeAgent(agentId: string): number;
  /** Replaces the agent's control-plane tags on live sessions; routing uses them at once. */
  updateAgentTags(agentId: string, tags: readonly string[]): number;
  /**
   * Pauses (cordons) or resumes an agent on this gateway: a paused agent stays connected and finishes
   * what it runs but is not selected; resuming assigns the org's queued requests at once. Returns the
   * sessions changed. Hosts call it for the control plane's pause events on every replica.
   */
  setAgentPaused(agentId: string, paused: boolean): number;
  /**
   * Rotates the token of the agent's (or the organization's) sessions on this gateway in-band: needs the
   * `tokenRotator` option; agents whose hello did not announce `rotate_token` are counted as
   * `unsupported` and never sent the frame. Hosts call it for the control plane's rotation events.
   */
  rotateAgentTokens(target: { agentId: string } | { organizationId: string }): RotationOutcome;
  /** Snapshot of connected sessions. */
  listSessions(): SessionInfo[];
  /** Drains: new upgrades get 503, agents get `drain` then close 1001, waiting dispatches fail GATEWAY_SHUTDOWN. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  readonly closed: boolean;
  readonly state: GatewayState;
}

function badRequest(err: { issues: readonly ZodIssueLike[] }, what: string): GatewayError {
  return new GatewayError('BAD_REQUEST', `invalid ${what}: ${formatZodIssues(err)}`);
}

/**
 * Creates an embeddable gateway: agent sessions over WebSocket, routing, dispatch and results.
 * It never opens a port or closes your server; you attach it to one.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createGateway, staticAuthenticator } from '@vespid/sdk-gateway';
 *
 * const gateway = createGateway({ authenticator, serviceToken: process.env.GATEWAY_SERVICE_TOKEN });
 * const server = createServer(gateway.httpHandler);
 * gateway.attach(server, { path: '/ws' });
 * server.listen(3002);
 * const result = await gateway.dispatch({ organizationId, requestId: 'run1:node1:0', kind: 'connector.action', payload });
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  const o = resolveGatewayOptions(options);
  const logger = o.logger;
  const cluster = o.cluster;
  // A cluster gateway serves nothing until start() has its subscription: a forward or a result
  // published before it would be lost. A single replica has nothing to wait for.
  let state: GatewayState = cluster ? 'idle' : 'running';
  let starting: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  const events = gatewayEvents(logger);
  const registry = new Registry();
  const store = o.resultStore ?? memoryResultStore({ ttlSec: o.resultsTtlSec });
  const strategy = o.selection.name;
  // Cluster mode selects inside Redis (one Lua script reserves atomically for every replica), so only
  // the built-in strategies it implements can run there; see the README's "Cluster mode".
  if (cluster && !isSelectionName(strategy))
    throw new TypeError(
      `invalid gateway options: cluster mode selects inside Redis and supports ${SELECTION_NAMES.join(' and ')}, not ${strategy}`,
    );
  // Null unless `tracing` is on: loads @opentelemetry/api then, and only then.
  const tracing = createGatewayTracing(o.tracing);
  const dispatcher = new Dispatcher({
    // Checked above: in cluster mode the strategy is one the reserve script implements.
    cluster: cluster && isSelectionName(strategy) ? { cluster, strategy } : undefined,
    registry,
    store,
    selection: () => o.selection,
    logger,
    metrics: o.metrics,
    isClosing: () => state !== 'running',
    orgMaxQueued: o.orgMaxQueued,
    emit: (event, payload) => events.emit(event, payload),
  });
  const rotations = new TokenRotations({ registry, rotator: o.tokenRotator, logger, ackTimeoutMs: o.rotationAckTimeoutMs });
  const sessions = new SessionManager({
    rotations,
    registry,
    dispatcher: () => dispatcher,
    logger,
    metrics: o.metrics,
    staleMs: o.staleMs,
    heartbeatMs: o.heartbeatMs,
    maxPayloadBytes: o.maxPayloadBytes,
    defaultMaxInFlight: o.defaultMaxInFlight,
    agentSeenIntervalMs: o.agentSeenIntervalMs,
    events,
    cluster,
  });
  // Local timers only (stale sweep, liveness flush): they cannot fail, so they need no awaited start.
  sessions.start(o.sweepIntervalMs);
  if (cluster) {
    cluster.bind({
      // Owner side of a forward: the agent's socket is here.
      execute: (m) => dispatcher.cluster?.owner.execute(m) ?? false,
      cancel: (requestId, agentId, reason) => dispatcher.cluster?.owner.cancel(requestId, agentId, reason),
      settled: (result) => dispatcher.cluster?.settleRemote(result),
      moved: (agentId, replicaId) => dispatcher.cluster?.redeliverTo(agentId, replicaId),
      capacity: (organizationId) => dispatcher.remoteCapacity(organizationId),
    });
  }

  const start = (): Promise<void> => {
    if (state === 'closing' || state === 'closed') return Promise.reject(new GatewayError('GATEWAY_SHUTDOWN', 'gateway is closed'));
    starting ??= (async () => {
      if (!cluster) return;
      try {
        await cluster.start();
      } catch (err) {
        // Startable again: the host may retry (Redis not up yet) or close.
        starting = null;
        throw err;
      }
      if (state === 'idle') state = 'running';
    })();
    return starting;
  };
  const notStarted = () => new GatewayError('GATEWAY_UNAVAILABLE', 'gateway not started: await gateway.start() first');
  const ws = new WsAdapter({
    authenticator: o.authenticator,
    logger,
    maxPayloadBytes: o.maxPayloadBytes,
    maxPendingUpgrades: o.maxPendingUpgrades,
    isAccepting: () => state === 'running',
    isRevoked: (id) => sessions.revoked.has(id),
    connect: (c, a) => sessions.connect(c, a),
  });

  const parse = (request: unknown) => {
    if (state === 'idle') throw notStarted();
    if (isValidatedDispatchRequest(request)) return request;
    const parsed = DispatchRequestSchema.safeParse(request);
    if (!parsed.success) throw badRequest(parsed.error, 'dispatch request');
    return parsed.data;
  };

  /** Runs `work` inside the request's receive span (when tracing): answered with its outcome or error. */
  const traced = async <T>(
    req: DispatchRequest,
    route: 'dispatch' | 'dispatch_async',
    work: (trace: RequestTrace | undefined) => Promise<T>,
    outcomeOf: (value: T) => string,
  ): Promise<T> => {
    const trace = tracing?.receive(req, route);
    if (!trace) return work(undefined);
    try {
      const value = await work(trace);
      trace.answered(outcomeOf(value));
      return value;
    } catch (err) {
      trace.answered('error', err);
      throw err;
    }
  };

  const dispatch = async (request: DispatchRequestInput, opts: { signal?: AbortSignal } = {}): Promise<StoredResult> => {
    const req = parse(request);
    return traced(
      req,
      'dispatch',
      (trace) => dispatchParsed(req, opts, trace),
      (r) => r.status,
    );
  };

  const dispatchParsed = async (req: DispatchRequest, opts: { signal?: AbortSignal }, trace: RequestTrace | undefined) => {
    const started = dispatcher.start(req, trace);
    // Wait is registered before the first await so a very fast result cannot be missed.
    const waiting = dispatcher.wait(req.requestId, opts.signal);
    waiting?.catch(() => {});
    const outcome = await started;
    if (outcome.kind === 'cached') return outcome.result;
    if (waiting) return waiting;
    const stored = await store.get(req.requestId);
    if (stored) return stored;
    throw new GatewayError('INTERNAL_ERROR', `request ${req.requestId} settled without a stored result`);
  };

  const dispatchAsync = async (request: DispatchRequestInput): Promise<DispatchAsyncOutcome> => {
    const req = parse(request);
    return traced(req, 'dispatch_async', (trace) => dispatchAsyncParsed(req, trace), asyncOutcome);
  };

  const dispatchAsyncParsed = async (req: DispatchRequest, trace: RequestTrace | undefined): Promise<DispatchAsyncOutcome> => {
    const outcome = await dispatcher.start(req, trace);
    if (outcome.kind === 'dispatched') {
      const { kind: _, ...agent } = outcome;
      return { requestId: req.requestId, dispatched: true, ...agent };
    }
    if (outcome.kind === 'cached') return { requestId: req.requestId, dispatched: false, cached: true };
    if (outcome.kind === 'queued') {
      // This caller relies on the stored result: an aborted synchronous caller of the same id must not cancel it.
      const entry = dispatcher.inflight.get(req.requestId);
      if (entry) entry.detached = true;
      return { requestId: req.requestId, dispatched: false, queued: true, position: outcome.position, explanation: outcome.explanation };
    }
    const agent = outcome.agentId ? { agentId: outcome.agentId, ...(outcome.agentName ? { agentName: outcome.agentName } : {}) } : {};
    return { requestId: req.requestId, dispatched: false, inFlight: true, ...agent };
  };

  const getResult = async (requestId: string) => {
    if (!RequestIdSchema.safeParse(requestId).success) throw new GatewayError('BAD_REQUEST', 'invalid requestId');
    // A caller answered while its result is still being written reads the same result back.
    return dispatcher.inflight.get(requestId)?.answer ?? store.get(requestId);
  };

  const explain = (request: RoutingRequest & { requestId?: string }) => ({
    ...explainRouting(registry, o.selection, request),
    queue: dispatcher.queueInfo(request.organizationId, request.requestId),
  });

  const cancelQueued = (requestId: string, organizationId?: string) => {
    const entry = dispatcher.inflight.get(requestId);
    if (!entry || (organizationId !== undefined && entry.organizationId !== organizationId)) return false;
    return dispatcher.cancelQueued(requestId, 'cancelled by the caller');
  };

  const listSessions = (): SessionInfo[] => {
    // One pass over the in-flight map, grouped by session, so the list stays linear.
    const requests = new Map<object, SessionInfo['requests']>();
    for (const e of dispatcher.inflight.values()) {
      if (!e.session || (e.status !== 'sent' && e.status !== 'storing')) continue;
      const list = requests.get(e.session) ?? [];
      requests.set(e.session, list);
      list.push({ requestId: e.requestId, kind: e.kind, startedAt: e.startedAt, received: e.received });
    }
    return [...registry.all].map((s) => ({
      sessionId: s.sessionId,
      agentId: s.agentId,
      organizationId: s.organizationId,
      name: s.name,
      state: s.state,
      tags: [...s.tags],
      reportedTags: [...s.reportedTags],
      kinds: [...s.kinds],
      connectors: s.connectors ? [...s.connectors] : null,
      inFlight: s.inFlight,
      maxInFlight: s.maxInFlight,
      connectedAt: s.connectedAt,
      lastSeenAt: s.lastSeenAt,
      remoteAddress: s.connection.remoteAddress,
      agentVersion: s.agentVersion,
      paused: s.paused,
      requests: requests.get(s) ?? [],
    }));
  };

  const core = { serviceToken: o.serviceToken, logger, dispatch, dispatchAsync, getResult, explain, listSessions, cancelQueued };
  const channels = new ChannelAdapter({
    core,
    logger,
    // The internal routes' body limit: a request frame carries the same body.
    maxPayloadBytes: o.maxPayloadBytes + 128 * 1024,
    maxInFlight: o.channelMaxInFlight,
    highWaterBytes: 4 * 1024 * 1024,
    isAccepting: () => state === 'running',
  });

  const close = (opts: { timeoutMs?: number } = {}): Promise<void> => {
    if (closing) return closing;
    state = 'closing';
    const timeoutMs = opts.timeoutMs ?? 10_000;
    closing = (async () => {
      sessions.stop();
      dispatcher.shutdown();
      // Channel requests are answered (waiting ones with GATEWAY_SHUTDOWN by the shutdown above) before
      // their channels close, so a worker never loses an answer it could have had.
      const channelsClosed = channels.close('gateway shutting down', timeoutMs);
      // Withdraw from the cluster first, so that no replica selects these agents while they move.
      await cluster?.drain().catch((err: unknown) => logger.warn({ err: errText(err) }, 'cluster drain failed'));
      for (const s of [...registry.all]) {
        s.send(encodeMessage({ type: 'drain', reason: 'gateway shutting down' }));
        sessions.close(s, CloseCode.GoingAway, 'gateway shutting down');
      }
      // Bounded wait for clean closes, then force: close() must always finish. The last session's
      // close settles the wait (no polling); the timer only bounds it.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([sessions.whenEmpty(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      for (const s of [...registry.all]) {
        s.connection.terminate();
        sessions.forget(s);
      }
      ws.detachAll();
      await channelsClosed;
      await cluster?.close().catch((err: unknown) => logger.warn({ err: errText(err) }, 'cluster close failed'));
      state = 'closed';
      logger.info({}, 'gateway closed');
    })();
    return closing;
  };

  return {
    start,
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    attach: (server, attachOptions = {}) => {
      const detachAgents = ws.attach(server, attachOptions.path ?? '/ws');
      // Dispatch clients ask every gateway for the channel: where it is not attached, a 404 at once.
      const stopRefusing = channels.refuseWhereNotAttached(server, ROUTES.channel);
      return () => {
        detachAgents();
        stopRefusing();
      };
    },
    handleUpgrade: (req, socket, head) => ws.handleUpgrade(req, socket, head),
    attachChannel: (server, attachOptions = {}) => channels.attach(server, attachOptions.path ?? ROUTES.channel),
    handleChannelUpgrade: (req, socket, head) => channels.handleUpgrade(req, socket, head),
    httpHandler: createHttpHandler(core, o.maxPayloadBytes + 128 * 1024),
    handleInternalRequest: (req) => handleInternal(core, req),
    connect: (connection, agent) => {
      if (state === 'idle') throw notStarted();
      if (state !== 'running') throw new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');
      return sessions.connect(connection, agent);
    },
    dispatch,
    dispatchAsync,
    getResult,
    explain,
    notifyCapacity: (organizationId) => dispatcher.capacity(organizationId, true),
    cancelQueued,
    revokeAgent: (agentId) => sessions.revoke(agentId),
    updateAgentTags: (agentId, tags) => sessions.retag(agentId, tags),
    setAgentPaused: (agentId, paused) => sessions.setPaused(agentId, paused),
    rotateAgentTokens: (target) =>
      rotations.request((s) => ('agentId' in target ? s.agentId === target.agentId : s.organizationId === target.organizationId)),
    listSessions,
    close,
    get closed() {
      return state === 'closed';
    },
    get state() {
      return state;
    },
    [Symbol.asyncDispose]: () => close(),
  };
}
