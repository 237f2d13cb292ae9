import {
  type DispatchRequest,
  type ExecuteResultMessage,
  AGENT_FEATURES,
  LIMITS,
  type Logger,
  type StoredResult,
  encodeMessage,
} from '@vespid/protocol';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import type { DispatchRecord, ResultStore, StoreClaim } from '../results/result-store.js';
import type { SelectionStrategy } from '../selection/strategy.js';
import type { RequestTrace } from '../tracing.js';
import { explainRouting, selectSession } from '../selection/candidates.js';
import { ClusterDispatch } from './cluster-dispatch.js';
import type { ForwardedExecute } from '../cluster/cluster-types.js';
import type { ClusterRouteDeps } from './cluster-route.js';
import type { InFlight } from './in-flight.js';
import type { Registry } from './registry.js';
import type { Session } from './session.js';
import { ClusterWaiting } from './cluster-waiting.js';
import { type QueuedOutcome, WaitingRoom } from './waiting-room.js';

/** Pause between attempts to store a result the store refused (its backend is down). */
const STORE_RETRY_MS = 500;

/** What `start()` did with a request. */
export type DispatchOutcome =
  | { kind: 'dispatched'; agentId: string; agentName?: string }
  | { kind: 'cached'; result: StoredResult }
  | { kind: 'in_flight'; agentId: string | null; agentName?: string }
  | QueuedOutcome;

interface Deps {
  registry: Registry;
  store: ResultStore;
  selection: () => SelectionStrategy;
  logger: Logger;
  metrics: GatewayMetrics;
  isClosing: () => boolean;
  /** Bound of the per-organization queue of requests waiting for an agent. */
  orgMaxQueued: number;
  /** Cluster mode: selection, reservation and forwarding go through the cluster. */
  cluster?: Omit<ClusterRouteDeps, 'registry' | 'store' | 'logger'> | undefined;
}

/** The chosen agent's identity for answers and results; the name is known only where its session is. */
export function agentIdentity(agentId: string, session: Session | null | undefined): { agentId: string; agentName?: string } {
  return session ? { agentId, agentName: session.name.slice(0, LIMITS.nameLength) } : { agentId };
}

/** Opens the queue span of a request that now waits for an agent. */
function queuedOn(entry: InFlight, outcome: QueuedOutcome): QueuedOutcome {
  entry.trace?.queued(outcome.position);
  return outcome;
}

const conflict = (requestId: string) =>
  new GatewayError('CONFLICT', `request ${requestId} belongs to another organization`, { httpStatus: 409 });

/**
 * Sends requests to agents and turns agent results, timeouts and shutdown into stored results. Every
 * request settles exactly once: by a result, by its deadline, or by shutdown.
 */
export class Dispatcher {
  readonly inflight = new Map<string, InFlight>();
  private seq = 0;
  /** Cluster mode: selection, forwarding and redelivery through the cluster. */
  private readonly clustered: ClusterDispatch | null;
  /** Requests waiting for an agent (`queueTimeoutMs`), single-replica mode. */
  readonly waiting: WaitingRoom;
  /** Cluster mode: requests waiting for an agent, indexed cluster-wide (null: the cluster cannot queue). */
  readonly clusterWaiting: ClusterWaiting | null;

  constructor(private readonly deps: Deps) {
    this.clustered = deps.cluster ? new ClusterDispatch(this, { ...deps, ...deps.cluster }) : null;
    this.waiting = new WaitingRoom(this, { ...deps, maxPerOrg: deps.orgMaxQueued });
    const clustered = this.clustered;
    this.clusterWaiting =
      clustered && deps.cluster?.cluster.enqueue
        ? new ClusterWaiting(
            {
              inflight: this.inflight,
              route: (entry, req) => clustered.start(entry, req),
              storeAndSettle: (entry, stored, session) => this.storeAndSettle(entry, stored, session),
              forget: (entry) => this.forget(entry),
            },
            { ...deps, cluster: deps.cluster.cluster, maxPerOrg: deps.orgMaxQueued },
          )
        : null;
    if (clustered && this.clusterWaiting) clustered.onReleased = (org) => this.capacity(org);
  }

  /**
   * Capacity may have appeared in the organization (an agent connected, freed a slot, was retagged,
   * resumed or approved): queued requests of the org are assigned now. Cheap when nothing waits.
   * `announce`: in cluster mode, tell the other replicas even when this one knows of no waiting request
   * (an agent's hello: a replica that started after the request was queued never heard of it).
   */
  capacity(organizationId: string, announce = false): void {
    const cw = this.clusterWaiting;
    if (cw) {
      if (announce || cw.waits(organizationId)) cw.capacity(organizationId);
      return;
    }
    this.waiting.capacity(organizationId);
  }

  /** Cluster mode: another replica announced capacity for an org whose requests wait. */
  remoteCapacity(organizationId: string): void {
    this.clusterWaiting?.capacity(organizationId, false);
  }

  /** Withdraws a request still waiting in the queue; false when it is not waiting here. */
  cancelQueued(requestId: string, reason: string): boolean {
    return (this.clusterWaiting ?? this.waiting).cancel(requestId, reason);
  }

  /** Requests of the org waiting here, and the 1-based position of one of them. */
  queueInfo(organizationId: string, requestId?: string): { depth: number; position: number | null } {
    const q = this.clusterWaiting ?? this.waiting;
    return { depth: q.depth(organizationId), position: requestId ? q.position(requestId) : null };
  }

  nextSeq(): number {
    return ++this.seq;
  }

  get size(): number {
    return this.inflight.size;
  }

  /**
   * Dispatches unless a result is stored or the request already runs. Idempotent by requestId. The
   * request is reserved synchronously, before any await, so two concurrent calls never both send.
   */
  async start(req: DispatchRequest, trace?: RequestTrace): Promise<DispatchOutcome> {
    const { registry, store, logger } = this.deps;
    if (this.deps.isClosing()) throw new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');
    const existing = this.inflight.get(req.requestId);
    if (existing) {
      if (existing.organizationId !== req.organizationId) throw conflict(req.requestId);
      if (existing.status === 'queued') return (this.clusterWaiting ?? this.waiting).outcome(existing);
      // A repeat of a request known here only from its record: its router may have died since.
      if (this.clustered && existing.record && !existing.req && existing.status === 'sent')
        await this.clustered.adoptIfOrphaned(existing, req, existing.record);
      return existing.agentId
        ? { kind: 'in_flight', ...agentIdentity(existing.agentId, existing.session) }
        : { kind: 'in_flight', agentId: null };
    }
    const entry: InFlight = {
      requestId: req.requestId,
      organizationId: req.organizationId,
      kind: req.kind,
      status: 'reserving',
      agentId: null,
      session: null,
      received: false,
      startedAt: Date.now(),
      timer: null,
      replicaId: null,
      early: null,
      req: null,
      record: null,
      waiters: [],
      trace,
    };
    this.inflight.set(req.requestId, entry);
    try {
      if (!this.clustered && store.claimDispatch) {
        const claimed = await this.claimFirst(entry, req, store.claimDispatch.bind(store));
        if (claimed) return claimed;
      }
      const { result, dispatch } = await store.lookup(req.requestId);
      const known = await this.fromStore(entry, req, result, dispatch);
      if (known) return known;
      if (this.deps.isClosing()) throw new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');
      if (this.clustered) {
        const selected = trace?.select();
        try {
          const routed = await this.clustered.start(entry, req);
          selected?.(entry.agentId);
          return routed;
        } catch (err) {
          selected?.(null);
          const noAgent = (err as { code?: string }).code === 'NO_AGENT_AVAILABLE';
          if (!noAgent || !req.queueTimeoutMs || !this.clusterWaiting) throw err;
          return queuedOn(entry, await this.clusterWaiting.enqueue(entry, req, (err as Error).message));
        }
      }
      const selected = trace?.select();
      const session = selectSession(registry, this.deps.selection(), req);
      selected?.(session?.agentId ?? null);
      if (!session) {
        const why = explainRouting(registry, this.deps.selection(), req);
        if (req.queueTimeoutMs) return queuedOn(entry, this.waiting.enqueue(entry, req, why));
        this.deps.metrics.dispatchRejected({ kind: req.kind, code: 'NO_AGENT_AVAILABLE' });
        throw new GatewayError('NO_AGENT_AVAILABLE', why.message, {
          details: { connected: why.connected, excluded: why.excluded },
        });
      }
      const deadline = this.sendTo(entry, req, session);
      await store
        .recordDispatch({ requestId: req.requestId, organizationId: req.organizationId, agentId: session.agentId, deadline })
        .catch((err: unknown) => logger.warn({ requestId: req.requestId, err: errText(err) }, 'could not record dispatch'));
      return { kind: 'dispatched', ...agentIdentity(session.agentId, session) };
    } catch (err) {
      if (entry.status === 'reserving') {
        this.drop(entry);
        for (const w of entry.waiters) w.reject(err);
      }
      throw err;
    }
  }

  /** A stored result answers the request; a live record means it already runs (wait, never send twice). */
  private async fromStore(
    entry: InFlight,
    req: DispatchRequest,
    result: StoredResult | null,
    dispatch: DispatchRecord | null,
  ): Promise<DispatchOutcome | null> {
    if (result) {
      if (result.organizationId !== req.organizationId) throw conflict(req.requestId);
      this.drop(entry);
      for (const w of entry.waiters) w.resolve(result);
      return { kind: 'cached', result };
    }
    const now = Date.now();
    if (dispatch && dispatch.deadline > now) {
      if (dispatch.organizationId !== req.organizationId) throw conflict(req.requestId);
      // Sent before a restart (or by another replica): wait for the agent's resend, never send twice.
      entry.status = 'sent';
      entry.agentId = dispatch.agentId;
      this.arm(entry, dispatch.deadline - now);
      entry.record = dispatch;
      await this.clustered?.adoptIfOrphaned(entry, req, dispatch);
      return { kind: 'in_flight', agentId: dispatch.agentId };
    }
    return null;
  }

  /**
   * Single-replica fast path for stores with `claimDispatch`: select locally first, then one store
   * call looks up the result, checks for a live record and records this dispatch atomically (one
   * round trip before sending instead of two). Null = use the lookup path: no agent right now (the
   * store may still hold a result), or the chosen agent went away during the call (record released).
   */
  private async claimFirst(
    entry: InFlight,
    req: DispatchRequest,
    claim: (record: DispatchRecord) => Promise<StoreClaim>,
  ): Promise<DispatchOutcome | null> {
    const { registry, logger } = this.deps;
    const selected = entry.trace?.select();
    const session = selectSession(registry, this.deps.selection(), req);
    selected?.(session?.agentId ?? null);
    if (!session) return null;
    const record: DispatchRecord = {
      requestId: req.requestId,
      organizationId: req.organizationId,
      agentId: session.agentId,
      deadline: entry.startedAt + req.timeoutMs,
    };
    // Hold the agent's slot across the store call so concurrent dispatches see its real load.
    session.inFlight++;
    let claimed: StoreClaim;
    try {
      claimed = await claim(record);
    } finally {
      session.inFlight = Math.max(0, session.inFlight - 1);
    }
    // The slot held across the call is free again: requests queued meanwhile come first (FIFO).
    this.capacity(req.organizationId);
    if (!claimed.claimed) return this.fromStore(entry, req, claimed.result, claimed.dispatch);
    // Recording an expired deadline releases the claim, so the lookup path or a retry can dispatch.
    const release = () =>
      this.deps.store
        .recordDispatch({ ...record, deadline: 0 })
        .catch((err: unknown) => logger.warn({ requestId: req.requestId, err: errText(err) }, 'could not release dispatch record'));
    if (this.deps.isClosing()) {
      await release();
      throw new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');
    }
    if (registry.currentFor(session.agentId) !== session || session.state !== 'ready' || session.inFlight >= session.maxInFlight) {
      await release();
      return null;
    }
    try {
      this.sendTo(entry, req, session);
    } catch (err) {
      await release();
      throw err;
    }
    return { kind: 'dispatched', ...agentIdentity(session.agentId, session) };
  }

  /** Sends `execute` to the chosen session and marks the request sent; returns its deadline. */
  sendTo(entry: InFlight, req: DispatchRequest, session: Session): number {
    const { registry, logger } = this.deps;
    // Only an agent that announced `trace` gets the field: an older agent's strict schema would refuse the frame.
    const trace = entry.trace?.send(session.agentId, session.capabilities?.features?.includes(AGENT_FEATURES.trace) === true);
    const sent = session.send(
      encodeMessage({
        type: 'execute',
        requestId: req.requestId,
        organizationId: req.organizationId,
        kind: req.kind,
        payload: req.payload,
        ...(req.secret !== undefined ? { secret: req.secret } : {}),
        timeoutMs: req.timeoutMs,
        ...(trace ? { trace } : {}),
      }),
    );
    if (!sent) throw new GatewayError('AGENT_DISCONNECTED', `agent ${session.agentId} disconnected before the request was sent`);
    session.inFlight++;
    session.lastDispatchSeq = ++this.seq;
    registry.touch(session);
    entry.status = 'sent';
    entry.agentId = session.agentId;
    entry.session = session;
    this.arm(entry, req.timeoutMs);
    this.deps.metrics.inFlight(this.inflight.size);
    logger.debug({ requestId: req.requestId, agentId: session.agentId, kind: req.kind }, 'dispatched');
    return entry.startedAt + req.timeoutMs;
  }

  /** Resolves with the stored result of an in-flight request; null if it is not in flight here. */
  wait(requestId: string, signal?: AbortSignal): Promise<StoredResult> | null {
    const entry = this.inflight.get(requestId);
    if (!entry) return null;
    return new Promise<StoredResult>((resolve, reject) => {
      const waiter = { resolve, reject };
      entry.waiters.push(waiter);
      if (!signal) return;
      const onAbort = () => {
        const i = entry.waiters.indexOf(waiter);
        if (i >= 0) entry.waiters.splice(i, 1);
        reject(new GatewayError('TASK_CANCELLED', 'the caller stopped waiting'));
        // Nobody waits for a queued request any more: it leaves the queue instead of taking an agent later.
        if (entry.status === 'queued' && entry.waiters.length === 0 && !entry.detached) this.cancelQueued(requestId, 'caller aborted');
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** `execute_received` from `session`: from now on the agent owns the request and resends its result. */
  onReceived(session: Session, requestId: string): void {
    const entry = this.inflight.get(requestId);
    if (entry && entry.session === session) entry.received = true;
  }

  /**
   * `session` closed. A request it never confirmed with `execute_received` will never be resent (the
   * agent may not even have read it: e.g. it was closing after a drain), so it fails at once with a
   * retryable AGENT_DISCONNECTED instead of holding the caller until its deadline.
   */
  onSessionClosed(session: Session): void {
    // A gateway going away closes every session itself: its agents keep their tasks and resend to the next one.
    if (session.inFlight === 0 || this.deps.isClosing()) return;
    for (const entry of [...this.inflight.values()]) {
      if (entry.session !== session || entry.received || entry.status !== 'sent') continue;
      entry.status = 'storing';
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      this.deps.logger.warn({ requestId: entry.requestId, agentId: entry.agentId }, 'agent disconnected before confirming the request');
      this.storeAndSettle(
        entry,
        {
          requestId: entry.requestId,
          organizationId: entry.organizationId,
          status: 'failed',
          error: {
            code: 'AGENT_DISCONNECTED',
            message: `agent ${session.agentId} disconnected before it confirmed the request`,
            retryable: true,
          },
          ...agentIdentity(session.agentId, session),
          completedAt: Date.now(),
        },
        null,
      ).catch((err: unknown) => this.deps.logger.error({ requestId: entry.requestId, err: errText(err) }, 'disconnect handling failed'));
    }
  }

  /** An `execute_result` from `session`. Accepted only from the agent (and org) the request went to. */
  async onResult(session: Session, msg: ExecuteResultMessage): Promise<void> {
    const { store, logger } = this.deps;
    const entry = this.inflight.get(msg.requestId);
    const log = { requestId: msg.requestId, agentId: session.agentId, organizationId: session.organizationId };
    if (msg.status === 'failed' && msg.error?.code === 'AGENT_SHUTDOWN' && this.deps.registry.currentFor(session.agentId) === session) {
      // The agent is draining: it refuses new work while its in-flight count falls, which made
      // least-in-flight pick it again and again. Stop routing to this session (only its own routing).
      this.deps.registry.unroute(session);
      logger.info(log, 'agent is shutting down; no longer selected');
    }
    const stored: StoredResult = {
      requestId: msg.requestId,
      organizationId: session.organizationId,
      status: msg.status,
      ...(msg.output !== undefined ? { output: msg.output } : {}),
      ...(msg.error !== undefined ? { error: msg.error } : {}),
      // Who ran it and since when, for run views (queue time = assignedAt - dispatch time).
      ...agentIdentity(session.agentId, session),
      ...(entry && entry.status !== 'reserving' && entry.status !== 'queued' ? { assignedAt: entry.startedAt } : {}),
      completedAt: Date.now(),
    };
    if (entry && entry.status !== 'reserving') {
      if (entry.organizationId !== session.organizationId || entry.agentId !== session.agentId) {
        logger.warn({ ...log, expectedAgentId: entry.agentId }, 'result from an agent the request was not sent to: dropped');
        return;
      }
      if (entry.status === 'storing') return; // a resend while the first copy is being stored
      entry.status = 'storing';
      await this.storeAndSettle(entry, stored, session);
      return;
    }
    // Cluster mode: a request another replica forwarded to this agent through this replica.
    if (this.clustered?.storeForwarded(session, stored)) return;
    // Not in flight here: a resend after a gateway restart, or a forgery. Check the durable record.
    const { result, dispatch } = await store.lookup(msg.requestId).catch(() => ({ result: null, dispatch: null }));
    if (result) {
      if (result.organizationId === session.organizationId && result.agentId === session.agentId) this.ack(session, msg.requestId);
      else logger.warn(log, 'result for a request of another agent: dropped');
      return;
    }
    if (!dispatch || dispatch.organizationId !== session.organizationId || dispatch.agentId !== session.agentId) {
      logger.warn(log, 'result for a request not dispatched to this agent: dropped');
      return;
    }
    try {
      await store.put(stored);
      this.ack(session, msg.requestId);
      if (this.clustered) this.clustered.storedForOther(stored, dispatch);
      else logger.info(log, 'result recovered after restart');
    } catch (err) {
      logger.error({ ...log, err: errText(err) }, 'could not store result; the agent will resend');
    }
  }

  /** Fails every waiter with GATEWAY_SHUTDOWN and forgets the requests (results may still arrive later). */
  shutdown(): void {
    const err = new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');
    for (const entry of this.inflight.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      for (const w of entry.waiters) w.reject(err);
    }
    this.inflight.clear();
    this.waiting.clear();
    this.clusterWaiting?.clear();
    this.clustered?.owner.clear();
    this.deps.metrics.inFlight(0);
  }

  /** Cluster mode: an agent with requests in flight (re)registered on `replicaId`. */
  redeliverTo(agentId: string, replicaId: string): void {
    this.clustered?.redeliverTo(agentId, replicaId);
  }

  /** Cluster mode: another replica stored the result of a request this replica dispatched. */
  settleRemote(result: StoredResult): void {
    this.clustered?.settleRemote(result);
  }

  /** Cluster mode, owner side: an execute forwarded by another replica for a local agent. */
  executeForwarded(m: ForwardedExecute): boolean | Promise<boolean> {
    return this.clustered?.owner.execute(m) ?? false;
  }

  /** Cluster mode, owner side: the routing replica timed a request out. */
  cancelForwarded(requestId: string, agentId: string, reason: string): void {
    this.clustered?.owner.cancel(requestId, agentId, reason);
  }

  async storeAndSettle(entry: InFlight, stored: StoredResult, session: Session | null): Promise<void> {
    const traced = entry.trace?.result(stored);
    try {
      await this.storeAndSettleUntraced(entry, stored, session);
    } finally {
      traced?.();
    }
  }

  private async storeAndSettleUntraced(entry: InFlight, stored: StoredResult, session: Session | null): Promise<void> {
    const { store, logger } = this.deps;
    let final = stored;
    try {
      if (!(await store.put(stored))) final = (await store.get(stored.requestId)) ?? stored;
    } catch (err) {
      logger.error({ requestId: stored.requestId, err: errText(err) }, 'could not store result');
      if (session) {
        // Not durable: no ack, so the agent keeps the result. It resends only after a reconnect, so
        // retry the store while the request is in flight here (e.g. Redis restarting), bounded by its deadline.
        entry.status = 'sent';
        const retry = setTimeout(() => {
          if (this.inflight.get(entry.requestId) !== entry || entry.status !== 'sent') return;
          entry.status = 'storing';
          void this.storeAndSettle(entry, stored, session).catch(() => undefined);
        }, STORE_RETRY_MS);
        retry.unref();
        return;
      }
    }
    if (session) this.ack(session, stored.requestId);
    this.settle(entry, final);
  }

  settle(entry: InFlight, result: StoredResult): void {
    if (this.inflight.get(entry.requestId) !== entry) return;
    this.drop(entry);
    if (entry.session) entry.session.inFlight = Math.max(0, entry.session.inFlight - 1);
    // A freed slot is capacity: a queued request of the org may take it at once. (Cluster mode: once the
    // slot is released in Redis, see ClusterDispatch.onReleased.)
    if (entry.session && !this.clustered) this.capacity(entry.session.organizationId);
    if (entry.agentId) this.clustered?.release(entry.requestId, entry.agentId, entry.organizationId);
    const durationMs = Date.now() - entry.startedAt;
    this.deps.metrics.dispatchCompleted({
      kind: entry.kind,
      status: result.status,
      ...(result.error ? { code: result.error.code } : {}),
      durationMs,
      requestId: entry.requestId,
      organizationId: entry.organizationId,
      ...(entry.agentId ? { agentId: entry.agentId } : {}),
      ...(entry.session ? { agentName: entry.session.name } : {}),
    });
    this.deps.metrics.inFlight(this.inflight.size);
    this.deps.logger.debug({ requestId: entry.requestId, status: result.status, durationMs }, 'request settled');
    for (const w of entry.waiters) w.resolve(result);
  }

  /** Forgets an entry that ends without a result (a cancelled queued request). */
  forget(entry: InFlight): void {
    this.drop(entry);
  }

  private drop(entry: InFlight): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (this.inflight.get(entry.requestId) === entry) this.inflight.delete(entry.requestId);
  }

  arm(entry: InFlight, ms: number): void {
    entry.timer = setTimeout(
      () => {
        this.expire(entry).catch((err: unknown) =>
          this.deps.logger.error({ requestId: entry.requestId, err: errText(err) }, 'timeout handling failed'),
        );
      },
      Math.max(1, ms),
    );
    entry.timer.unref?.();
  }

  /** The deadline passed without a result: store a failure unless a real result won the race. */
  private async expire(entry: InFlight): Promise<void> {
    if (this.inflight.get(entry.requestId) !== entry || entry.status === 'storing') return;
    entry.status = 'storing';
    const c = this.deps.cluster?.cluster;
    const remote = !!c && entry.replicaId !== c.replicaId;
    const live = entry.agentId ? this.deps.registry.currentFor(entry.agentId) : undefined;
    // In a cluster an agent missing here may run on another replica: that is a timeout, not a disconnect.
    const disconnected = !live && !remote;
    if (remote && !live && entry.agentId && entry.replicaId)
      c.cancel(entry.replicaId, { requestId: entry.requestId, agentId: entry.agentId, reason: 'timeout' }).catch(() => {});
    const code = disconnected ? 'AGENT_DISCONNECTED' : 'NODE_EXECUTION_TIMEOUT';
    const message = disconnected
      ? `agent ${entry.agentId ?? '?'} disconnected and did not resend a result before the deadline`
      : `node did not finish within its timeout`;
    if (live) live.send(encodeMessage({ type: 'cancel', requestId: entry.requestId, reason: 'timeout' }));
    this.deps.logger.warn({ requestId: entry.requestId, agentId: entry.agentId, code }, 'request timed out');
    await this.storeAndSettle(
      entry,
      {
        requestId: entry.requestId,
        organizationId: entry.organizationId,
        status: 'failed',
        error: { code, message, retryable: true },
        ...(entry.agentId ? agentIdentity(entry.agentId, entry.session) : {}),
        completedAt: Date.now(),
      },
      null,
    );
  }

  private ack(session: Session, requestId: string): void {
    session.send(encodeMessage({ type: 'execute_ack', requestId }));
  }
}

/** An error's message for logs: never the error object, whose fields could carry request data. */
export function errText(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
}
