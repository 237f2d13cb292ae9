import { AGENT_FEATURES, type DispatchRequest, type Logger, type StoredResult, encodeMessage } from '@vespid/protocol';
import type { GatewayCluster } from '../cluster/cluster-types.js';
import { GatewayError } from '../errors.js';
import type { EmitGatewayEvent } from '../gateway-events.js';
import type { GatewayMetrics } from '../metrics.js';
import type { DispatchRecord, ResultStore } from '../results/result-store.js';
import { explainRouting, selectSession } from '../selection/candidates.js';
import type { SelectionName, SelectionStrategy } from '../selection/strategy.js';
import type { RequestTrace } from '../tracing.js';
import { type ClaimContext, claimFirst } from './claim-first.js';
import { ClusterDispatch } from './cluster-dispatch.js';
import { ClusterWaiting } from './cluster-waiting.js';
import { type DispatchOutcome, type QueuedOutcome, agentIdentity } from './dispatch-outcome.js';
import { errText } from './err-text.js';
import type { InFlight } from './in-flight.js';
import type { Registry } from './registry.js';
import { RequestTable } from './request-table.js';
import { ResultIntake } from './result-intake.js';
import type { Session } from './session.js';
import { WaitingRoom } from './waiting-room.js';

interface Deps {
  registry: Registry;
  store: ResultStore;
  selection: () => SelectionStrategy;
  logger: Logger;
  metrics: GatewayMetrics;
  isClosing: () => boolean;
  /** Bound of the per-organization queue of requests waiting for an agent. */
  orgMaxQueued: number;
  /** The gateway's `on()` listeners (queued, dispatched, settled); spread into the parts that report them. */
  emit?: EmitGatewayEvent | undefined;
  /** Cluster mode: selection, reservation and forwarding go through the cluster. */
  cluster?: { cluster: GatewayCluster; strategy: SelectionName } | undefined;
}

/** Opens the queue span of a request that now waits for an agent. */
function queuedOn(entry: InFlight, outcome: QueuedOutcome): QueuedOutcome {
  entry.trace?.queued(outcome.position);
  return outcome;
}

const conflict = (requestId: string) =>
  new GatewayError('CONFLICT', `request ${requestId} belongs to another organization`, { httpStatus: 409 });

const shuttingDown = () => new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');

/**
 * Starts requests: answers repeats from the request table or the store, selects an agent (locally, or
 * through the cluster) and sends, or queues the request until capacity appears. Every request then
 * lives in the {@link RequestTable} until it settles exactly once; agent results come in through
 * {@link ResultIntake}.
 */
export class Dispatcher {
  readonly table: RequestTable;
  /** Agent results, receipts and closed sessions. */
  readonly results: ResultIntake;
  /** Cluster mode: selection, forwarding and redelivery through the cluster (null: single replica). */
  readonly cluster: ClusterDispatch | null;
  /** Requests waiting for an agent (`queueTimeoutMs`), single-replica mode. */
  readonly waiting: WaitingRoom;
  /** Cluster mode: requests waiting for an agent, indexed cluster-wide (null: the cluster cannot queue). */
  readonly clusterWaiting: ClusterWaiting | null;
  /** Single replica, stores with `claimDispatch`: see {@link claimFirst}. */
  private readonly claimContext: ClaimContext;

  constructor(private readonly deps: Deps) {
    this.claimContext = {
      ...deps,
      capacity: (org) => this.capacity(org),
      fromStore: (entry, req, result, dispatch) => this.fromStore(entry, req, result, dispatch),
      sendTo: (entry, req, session) => this.sendTo(entry, req, session),
    };
    const c = deps.cluster;
    this.table = new RequestTable({ ...deps, cluster: c?.cluster });
    const clustered = c ? new ClusterDispatch(this.table, { ...deps, ...c }) : null;
    this.cluster = clustered;
    this.results = new ResultIntake({ ...deps, table: this.table, clustered, cluster: c?.cluster });
    this.waiting = new WaitingRoom(
      { table: this.table, sendTo: (entry, req, session) => this.sendTo(entry, req, session) },
      { ...deps, maxPerOrg: deps.orgMaxQueued },
    );
    this.clusterWaiting =
      clustered && c?.cluster.enqueue
        ? new ClusterWaiting(
            { table: this.table, route: (entry, req) => clustered.start(entry, req) },
            { ...deps, cluster: c.cluster, maxPerOrg: deps.orgMaxQueued },
          )
        : null;
    if (clustered && this.clusterWaiting) clustered.onReleased = (org) => this.capacity(org);
    this.table.onSettled = (entry) => {
      // A freed slot is capacity: a queued request of the org may take it at once. (Cluster mode: once
      // the slot is released in Redis, see ClusterDispatch.onReleased.)
      if (!clustered) {
        if (entry.session) this.capacity(entry.session.organizationId);
      } else if (entry.agentId) clustered.release(entry.requestId, entry.agentId, entry.organizationId);
    };
  }

  /** Requests this gateway is responsible for, by id. */
  get inflight(): ReadonlyMap<string, InFlight> {
    return this.table.inflight;
  }

  get size(): number {
    return this.table.size;
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

  /**
   * Dispatches unless a result is stored or the request already runs. Idempotent by requestId. The
   * request is reserved synchronously, before any await, so two concurrent calls never both send.
   */
  async start(req: DispatchRequest, trace?: RequestTrace): Promise<DispatchOutcome> {
    if (this.deps.isClosing()) throw shuttingDown();
    const existing = this.table.inflight.get(req.requestId);
    if (existing) {
      if (existing.organizationId !== req.organizationId) throw conflict(req.requestId);
      // The first start is still selecting (a store round trip away): the repeat answers what it did,
      // naming the agent; its error is the repeat's too (the request was never sent).
      if (existing.status === 'reserving' && existing.placing) {
        const first = await existing.placing;
        if (first.kind !== 'dispatched') return first;
        const { kind: _, ...agent } = first;
        return { kind: 'in_flight', ...agent };
      }
      if (existing.status === 'queued') return (this.clusterWaiting ?? this.waiting).outcome(existing);
      // A repeat of a request known here only from its record: its router may have died since.
      if (this.cluster && existing.record && !existing.req && existing.status === 'sent')
        await this.cluster.adoptIfOrphaned(existing, req, existing.record);
      return existing.agentId
        ? { kind: 'in_flight', ...agentIdentity(existing.agentId, existing.session) }
        : { kind: 'in_flight', agentId: null };
    }
    const entry = this.table.open(req, trace);
    const placing = this.place(entry, req, trace);
    entry.placing = placing;
    try {
      return await placing;
    } finally {
      entry.placing = undefined;
    }
  }

  private async place(entry: InFlight, req: DispatchRequest, trace: RequestTrace | undefined): Promise<DispatchOutcome> {
    const { registry, store, logger } = this.deps;
    try {
      if (!this.cluster && store.claimDispatch) {
        const claimed = await claimFirst(this.claimContext, entry, req, store.claimDispatch.bind(store));
        if (claimed) return claimed;
      }
      const { result, dispatch } = await store.lookup(req.requestId);
      const known = await this.fromStore(entry, req, result, dispatch);
      if (known) return known;
      if (this.deps.isClosing()) throw shuttingDown();
      if (this.cluster) return await this.startClustered(entry, req);
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
        this.table.drop(entry);
        for (const w of entry.waiters) w.reject(err);
      }
      throw err;
    }
  }

  /** Cluster mode: selection and reservation inside the cluster; queued when no agent is free and the caller waits. */
  private async startClustered(entry: InFlight, req: DispatchRequest): Promise<DispatchOutcome> {
    const selected = entry.trace?.select();
    try {
      const routed = await this.cluster!.start(entry, req);
      selected?.(entry.agentId);
      return routed;
    } catch (err) {
      selected?.(null);
      const noAgent = (err as { code?: string }).code === 'NO_AGENT_AVAILABLE';
      if (!noAgent || !req.queueTimeoutMs || !this.clusterWaiting) throw err;
      return queuedOn(entry, await this.clusterWaiting.enqueue(entry, req, (err as Error).message));
    }
  }

  /** A stored result answers the request; a live record means it already runs (wait, never send twice). */
  async fromStore(
    entry: InFlight,
    req: DispatchRequest,
    result: StoredResult | null,
    dispatch: DispatchRecord | null,
  ): Promise<DispatchOutcome | null> {
    if (result) {
      if (result.organizationId !== req.organizationId) throw conflict(req.requestId);
      this.table.drop(entry);
      for (const w of entry.waiters) w.resolve(result);
      return { kind: 'cached', result };
    }
    const now = Date.now();
    if (dispatch && dispatch.deadline > now) {
      if (dispatch.organizationId !== req.organizationId) throw conflict(req.requestId);
      // Sent before a restart (or by another replica): wait for the agent's resend, never send twice.
      entry.status = 'sent';
      entry.agentId = dispatch.agentId;
      this.table.arm(entry, dispatch.deadline - now);
      entry.record = dispatch;
      await this.cluster?.adoptIfOrphaned(entry, req, dispatch);
      return { kind: 'in_flight', agentId: dispatch.agentId };
    }
    return null;
  }

  /** Sends `execute` to the chosen session and assigns the request to it; returns its deadline. */
  sendTo(entry: InFlight, req: DispatchRequest, session: Session): number {
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
    this.table.assign(entry, { agentId: session.agentId, session }, req.timeoutMs);
    this.deps.logger.debug({ requestId: req.requestId, agentId: session.agentId, kind: req.kind }, 'dispatched');
    return entry.startedAt + req.timeoutMs;
  }

  /** Resolves with the stored result of an in-flight request; null if it is not in flight here. */
  wait(requestId: string, signal?: AbortSignal): Promise<StoredResult> | null {
    return this.table.wait(requestId, signal, (entry) => {
      // Nobody waits for a queued request any more: it leaves the queue instead of taking an agent later.
      if (entry.status === 'queued' && !entry.detached) this.cancelQueued(requestId, 'caller aborted');
    });
  }

  /** Fails every waiter with GATEWAY_SHUTDOWN and forgets the requests (results may still arrive later). */
  shutdown(): void {
    this.table.shutdown();
    this.waiting.clear();
    this.clusterWaiting?.clear();
    this.cluster?.owner.clear();
  }
}
