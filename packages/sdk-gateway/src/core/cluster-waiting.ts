import type { DispatchRequest, Logger } from '@vespid/protocol';
import type { GatewayCluster } from '../cluster/cluster-types.js';
import { GatewayError } from '../errors.js';
import type { EmitGatewayEvent } from '../gateway-events.js';
import type { GatewayMetrics } from '../metrics.js';
import type { SelectionStrategy } from '../selection/strategy.js';
import { type Explanation, explainRouting } from '../selection/candidates.js';
import { DispatchQueue, type QueueItem } from './dispatch-queue.js';
import type { QueuedOutcome } from './dispatch-outcome.js';
import { errText } from './err-text.js';
import type { InFlight } from './in-flight.js';
import type { RequestTable } from './request-table.js';
import type { Registry } from './registry.js';
import { queueTimeoutResult, routeKey } from './waiting-room.js';

interface Waiting extends QueueItem {
  req: DispatchRequest;
  entry: InFlight;
  enqueuedAt: number;
  deadline: number;
}

/** What the cluster queue needs of the dispatcher: the request table, and how a request is routed. */
export interface ClusterWaitingCore {
  readonly table: RequestTable;
  /** Routes through the cluster (reserve, record, send or forward); throws NO_AGENT_AVAILABLE when no agent is free. */
  route(entry: InFlight, req: DispatchRequest): Promise<unknown>;
}

interface Deps {
  cluster: GatewayCluster;
  registry: Registry;
  selection: () => SelectionStrategy;
  logger: Logger;
  metrics: GatewayMetrics;
  maxPerOrg: number;
  /** `request.queued` for the gateway's `on()` listeners (the replica that holds the request reports it). */
  emit?: EmitGatewayEvent | undefined;
}

/**
 * Queued dispatch in cluster mode. The org's FIFO is a Redis index (`GatewayCluster.enqueue`); each
 * request's body stays in the memory of its origin replica (bodies may carry secrets, never stored).
 * A replica that sees capacity (hello, freed slot, retag, `notifyCapacity`) announces it cluster-wide;
 * every origin with waiting requests of the org then routes its oldest through the cluster's atomic
 * reservation, so the agent may be on any replica. A request is claimed in Redis before it is routed,
 * so it is sent once even if two replicas hold it. A replica killed with its queue loses only bodies:
 * the caller repeats the request (same id) on another replica, which adopts it.
 */
export class ClusterWaiting {
  private readonly local = new DispatchQueue<Waiting>(Number.MAX_SAFE_INTEGER);
  private readonly pumping = new Set<string>();
  private readonly again = new Set<string>();
  /** Orgs some replica queued requests for (announced on the capacity channel) since our last empty announce. */
  private readonly remote = new Set<string>();

  constructor(
    private readonly core: ClusterWaitingCore,
    private readonly deps: Deps,
  ) {}

  get size(): number {
    return this.local.size;
  }

  depth(organizationId: string): number {
    return this.local.depth(organizationId);
  }

  position(requestId: string): number | null {
    return this.local.position(requestId);
  }

  private explanation(req: Pick<DispatchRequest, 'organizationId' | 'kind' | 'payload' | 'selector'>, message?: string): Explanation {
    const why = explainRouting(this.deps.registry, this.deps.selection(), req);
    return message ? { ...why, message: `${message} (counts are this replica's agents)` } : why;
  }

  /** Queues a request no agent of the cluster could take now; throws QUEUE_FULL beyond the org's bound. */
  async enqueue(entry: InFlight, req: DispatchRequest, why: string): Promise<QueuedOutcome> {
    const { cluster } = this.deps;
    const deadline = Date.now() + (req.queueTimeoutMs ?? 0);
    const r = await cluster.enqueue!({ requestId: req.requestId, organizationId: req.organizationId, deadline, max: this.deps.maxPerOrg });
    if (!r.ok) {
      this.deps.metrics.dispatchRejected({ kind: req.kind, code: 'QUEUE_FULL' });
      throw new GatewayError(
        'QUEUE_FULL',
        `organization ${req.organizationId} already has ${this.deps.maxPerOrg} requests waiting for an agent across the gateway cluster`,
      );
    }
    if (r.existing && r.origin !== cluster.replicaId) {
      if (await cluster.isAlive(r.origin)) {
        // Waiting on a live replica, which routes it: never queued twice. This replica keeps no copy.
        this.core.table.drop(entry);
        const err = new GatewayError('NO_AGENT_AVAILABLE', `request ${req.requestId} is queued on gateway replica ${r.origin}`);
        for (const w of entry.waiters) w.reject(err);
        return { kind: 'queued', position: r.position, explanation: this.explanation(req, why) };
      }
      // Its origin died (kill -9): this replica holds the body now.
      await cluster.adoptQueued!(req.requestId, req.organizationId, deadline);
      this.deps.logger.info({ requestId: req.requestId, from: r.origin }, 'adopted a queued request of a dead replica');
    }
    if (!this.local.has(req.requestId)) {
      const now = Date.now();
      this.local.enqueue({
        requestId: req.requestId,
        organizationId: req.organizationId,
        routeKey: routeKey(req),
        req,
        entry,
        enqueuedAt: now,
        deadline,
      });
      entry.status = 'queued';
      this.arm(entry, deadline - now);
      this.deps.metrics.queueDepth?.(this.local.size);
      this.deps.logger.info(
        { requestId: req.requestId, organizationId: req.organizationId, position: r.position },
        'no agent available; request queued',
      );
      this.deps.emit?.('request.queued', {
        requestId: req.requestId,
        organizationId: req.organizationId,
        kind: req.kind,
        position: r.position,
      });
    }
    // Other replicas learn that this org waits (their freed slots get announced from now on), and a slot
    // freed between the failed reservation and the enqueue is not missed: one local pump.
    void cluster.announceCapacity?.(req.organizationId).catch(() => {});
    void this.pump(req.organizationId);
    return { kind: 'queued', position: r.position, explanation: this.explanation(req, why) };
  }

  /** Answer to a repeat of a request waiting here. */
  outcome(entry: InFlight): QueuedOutcome {
    const w = this.local.get(entry.requestId);
    return {
      kind: 'queued',
      position: this.local.position(entry.requestId) ?? 1,
      explanation: this.explanation(
        w?.req ?? { organizationId: entry.organizationId, kind: entry.kind, payload: undefined, selector: undefined },
      ),
    };
  }

  /**
   * Capacity appeared here for the org (hello, a freed slot, a retag, `notifyCapacity`): route what
   * waits here, and tell the other replicas when requests of the org wait anywhere. `announce` false: the
   * event came from another replica's announcement.
   */
  capacity(organizationId: string, announce = true): void {
    if (!announce) this.remote.add(organizationId);
    if (this.local.depth(organizationId) > 0) void this.pump(organizationId);
    if (!announce || !this.deps.cluster.announceCapacity) return;
    this.deps.cluster
      .announceCapacity(organizationId)
      .then((waiting) => {
        if (!waiting) this.remote.delete(organizationId);
      })
      .catch((err: unknown) => this.deps.logger.warn({ organizationId, err: errText(err) }, 'could not announce capacity'));
  }

  /** Whether a freed slot of the org is worth announcing (cheap: no Redis call when nothing waits anywhere). */
  waits(organizationId: string): boolean {
    return this.remote.has(organizationId) || this.local.depth(organizationId) > 0;
  }

  cancel(requestId: string, reason: string): boolean {
    const entry = this.core.table.inflight.get(requestId);
    if (entry?.status !== 'queued' || !this.local.has(requestId)) return false;
    this.local.remove(requestId);
    this.core.table.drop(entry);
    void this.deps.cluster.dequeue?.(requestId, entry.organizationId).catch(() => {});
    this.deps.metrics.queueDepth?.(this.local.size);
    const err = new GatewayError('TASK_CANCELLED', `request ${requestId} was cancelled while queued: ${reason}`);
    for (const w of entry.waiters) w.reject(err);
    return true;
  }

  clear(): void {
    this.local.clear();
    this.deps.metrics.queueDepth?.(0);
  }

  /** Routes the org's oldest waiting requests until none can be placed; one pump per org at a time. */
  private async pump(org: string): Promise<void> {
    if (this.pumping.has(org)) {
      this.again.add(org);
      return;
    }
    this.pumping.add(org);
    try {
      do {
        this.again.delete(org);
        let placed = true;
        while (placed) {
          placed = false;
          for (const w of this.local.heads(org)) {
            if (await this.place(w)) {
              placed = true;
              break;
            }
          }
        }
      } while (this.again.has(org));
    } catch (err) {
      this.deps.logger.error({ organizationId: org, err: errText(err) }, 'queue pump failed');
    } finally {
      this.pumping.delete(org);
    }
  }

  /** Claims the request in the cluster index, then routes it; puts it back at its place when no agent takes it. */
  private async place(w: Waiting): Promise<boolean> {
    const { cluster } = this.deps;
    const { entry, req } = w;
    if (!this.core.table.holds(entry) || entry.status !== 'queued') {
      this.local.remove(req.requestId);
      return true;
    }
    const claim = await cluster.claimQueued!(req.requestId, req.organizationId);
    if (entry.status !== 'queued') return true; // timed out or cancelled meanwhile
    if (!claim.ok) {
      // Another replica adopted it (this one was thought dead) or it expired: that copy is the one.
      this.local.remove(req.requestId);
      this.core.table.drop(entry);
      const err = new GatewayError('NO_AGENT_AVAILABLE', `request ${req.requestId} is no longer queued on this replica`);
      for (const x of entry.waiters) x.reject(err);
      return true;
    }
    this.core.table.disarm(entry);
    entry.status = 'reserving';
    const now = Date.now();
    entry.startedAt = now;
    try {
      await this.core.route(entry, req);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === 'NO_AGENT_AVAILABLE' || code === 'RATE_LIMITED') && this.core.table.holds(entry)) {
        entry.status = 'queued';
        this.arm(entry, w.deadline - Date.now());
        await cluster.requeue!(req.requestId, req.organizationId, claim.score, w.deadline).catch(() => {});
        return false;
      }
      this.local.remove(req.requestId);
      void cluster.dequeue?.(req.requestId, req.organizationId).catch(() => {});
      this.core.table.drop(entry);
      for (const x of entry.waiters) x.reject(err);
      return true;
    }
    this.local.remove(req.requestId);
    void cluster.dequeue?.(req.requestId, req.organizationId).catch(() => {});
    this.deps.metrics.queueDepth?.(this.local.size);
    this.deps.metrics.queueAssigned?.({ kind: req.kind, waitedMs: now - w.enqueuedAt });
    this.deps.logger.info({ requestId: req.requestId, agentId: entry.agentId, waitedMs: now - w.enqueuedAt }, 'queued request assigned');
    return true;
  }

  private arm(entry: InFlight, ms: number): void {
    this.core.table.arm(entry, ms, () => this.expire(entry));
  }

  private expire(entry: InFlight): void {
    if (!this.core.table.holds(entry) || entry.status !== 'queued') return;
    const w = this.local.remove(entry.requestId);
    void this.deps.cluster.dequeue?.(entry.requestId, entry.organizationId).catch(() => {});
    this.deps.metrics.queueDepth?.(this.local.size);
    entry.status = 'storing';
    entry.timer = null;
    const why = this.explanation(
      w?.req ?? { organizationId: entry.organizationId, kind: entry.kind, payload: undefined, selector: undefined },
    );
    const waitedMs = w ? Date.now() - w.enqueuedAt : 0;
    this.deps.metrics.dispatchRejected({ kind: entry.kind, code: 'NO_AGENT_AVAILABLE' });
    this.core.table
      .storeAndSettle(entry, queueTimeoutResult(entry, why, waitedMs, 'without an agent on any gateway replica'), null)
      .catch((err: unknown) => this.deps.logger.error({ requestId: entry.requestId, err: errText(err) }, 'queue timeout handling failed'));
  }
}
