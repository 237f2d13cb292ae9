import { type DispatchRequest, LIMITS, type Logger, type StoredResult } from '@vespid/protocol';
import { GatewayError } from '../errors.js';
import type { EmitGatewayEvent } from '../gateway-events.js';
import type { GatewayMetrics } from '../metrics.js';
import type { ResultStore } from '../results/result-store.js';
import type { SelectionStrategy } from '../selection/strategy.js';
import { type Explanation, connectorIdOf, explainRouting, selectSession, selectorAgent, selectorTag } from '../selection/candidates.js';
import type { QueuedOutcome } from './dispatch-outcome.js';
import { DispatchQueue, type QueueItem } from './dispatch-queue.js';
import { errText } from './err-text.js';
import type { InFlight } from './in-flight.js';
import type { RequestTable } from './request-table.js';
import type { Registry } from './registry.js';
import type { Session } from './session.js';

/** A request waiting for an agent, with the in-flight entry that callers wait on. */
interface Waiting extends QueueItem {
  req: DispatchRequest;
  entry: InFlight;
  enqueuedAt: number;
}

/** What the waiting room needs of the dispatcher: the request table, and how a request is sent. */
export interface WaitingCore {
  readonly table: RequestTable;
  /** Sends `execute` to the session and marks the entry sent; returns its deadline. Throws if the send failed. */
  sendTo(entry: InFlight, req: DispatchRequest, session: Session): number;
}

interface Deps {
  registry: Registry;
  store: ResultStore;
  selection: () => SelectionStrategy;
  logger: Logger;
  metrics: GatewayMetrics;
  maxPerOrg: number;
  /** `request.queued` for the gateway's `on()` listeners. */
  emit?: EmitGatewayEvent | undefined;
}

/** The stored result of a request whose queue timeout passed: NO_AGENT_AVAILABLE with the placement explanation. */
export function queueTimeoutResult(
  entry: Pick<InFlight, 'requestId' | 'organizationId'>,
  why: Explanation,
  waitedMs: number,
  where: string,
): StoredResult {
  return {
    requestId: entry.requestId,
    organizationId: entry.organizationId,
    status: 'failed',
    error: {
      code: 'NO_AGENT_AVAILABLE',
      message: `queued ${waitedMs} ms ${where}; ${why.message}`.slice(0, LIMITS.errorMessageLength),
      retryable: true,
      details: { connected: why.connected, excluded: why.excluded, queuedMs: waitedMs },
    },
    completedAt: Date.now(),
  };
}

/** Requests with the same key need the same agents: kind, connector and selector. */
export function routeKey(req: DispatchRequest): string {
  return [req.kind, connectorIdOf(req.kind, req.payload) ?? '', selectorAgent(req.selector) ?? '', selectorTag(req.selector) ?? ''].join(
    '\u0000',
  );
}

/**
 * Queued dispatch, single replica: requests that carry `queueTimeoutMs` and find no eligible agent wait
 * here and are assigned when capacity appears ({@link WaitingRoom.capacity}: hello, a freed slot, a tag
 * change, or a host's `notifyCapacity`), never by polling. Each ends exactly once: assigned, cancelled,
 * timed out (a stored `NO_AGENT_AVAILABLE` result with the placement explanation) or shut down.
 */
export class WaitingRoom {
  private readonly queue: DispatchQueue<Waiting>;

  constructor(
    private readonly core: WaitingCore,
    private readonly deps: Deps,
  ) {
    this.queue = new DispatchQueue<Waiting>(deps.maxPerOrg);
  }

  get size(): number {
    return this.queue.size;
  }

  depth(organizationId: string): number {
    return this.queue.depth(organizationId);
  }

  position(requestId: string): number | null {
    return this.queue.position(requestId);
  }

  /** Queues a request that found no agent; throws `QUEUE_FULL` (429) beyond the org's bound. */
  enqueue(entry: InFlight, req: DispatchRequest, why: Explanation): QueuedOutcome {
    const now = Date.now();
    const r = this.queue.enqueue({
      requestId: req.requestId,
      organizationId: req.organizationId,
      routeKey: routeKey(req),
      req,
      entry,
      enqueuedAt: now,
    });
    if (!r.ok) {
      this.deps.metrics.dispatchRejected({ kind: req.kind, code: 'QUEUE_FULL' });
      throw new GatewayError(
        'QUEUE_FULL',
        `organization ${req.organizationId} already has ${this.deps.maxPerOrg} requests waiting for an agent`,
        { details: { queued: this.queue.depth(req.organizationId) } },
      );
    }
    entry.status = 'queued';
    this.armTimeout(entry, req.queueTimeoutMs ?? 0);
    this.deps.metrics.queueDepth?.(this.queue.size);
    this.deps.logger.info(
      { requestId: req.requestId, organizationId: req.organizationId, kind: req.kind, position: r.position },
      'no agent available; request queued',
    );
    this.deps.emit?.('request.queued', {
      requestId: req.requestId,
      organizationId: req.organizationId,
      kind: req.kind,
      position: r.position,
    });
    return { kind: 'queued', position: r.position, explanation: why };
  }

  /** The answer to a repeat of a request that is still waiting (never queued twice). */
  outcome(entry: InFlight): QueuedOutcome {
    const waiting = this.queue.get(entry.requestId);
    const req = waiting?.req ?? { organizationId: entry.organizationId, kind: entry.kind };
    return {
      kind: 'queued',
      position: this.queue.position(entry.requestId) ?? 1,
      explanation: explainRouting(this.deps.registry, this.deps.selection(), req),
    };
  }

  /** Capacity may have appeared for the org: assign its oldest placeable requests, fairly across orgs. */
  capacity(organizationId: string): void {
    if (this.queue.depth(organizationId) === 0) return;
    const placed = this.queue.pump(organizationId, (w) => this.place(w));
    if (placed > 0) this.deps.metrics.queueDepth?.(this.queue.size);
  }

  /** Withdraws a waiting request: its callers get `TASK_CANCELLED`. False when it is not waiting. */
  cancel(requestId: string, reason: string): boolean {
    const entry = this.core.table.inflight.get(requestId);
    if (entry?.status !== 'queued') return false;
    this.queue.remove(requestId);
    this.core.table.drop(entry);
    this.deps.metrics.queueDepth?.(this.queue.size);
    this.deps.logger.info({ requestId, reason }, 'queued request cancelled');
    const err = new GatewayError('TASK_CANCELLED', `request ${requestId} was cancelled while queued: ${reason}`);
    for (const w of entry.waiters) w.reject(err);
    return true;
  }

  /** Shutdown: forgets every waiting request (the dispatcher fails their callers with GATEWAY_SHUTDOWN). */
  clear(): void {
    this.queue.clear();
    this.deps.metrics.queueDepth?.(0);
  }

  private place(w: Waiting): boolean {
    const { entry, req } = w;
    if (!this.core.table.holds(entry) || entry.status !== 'queued') return true; // ended meanwhile: drop
    const session = selectSession(this.deps.registry, this.deps.selection(), req);
    if (!session) return false;
    this.core.table.disarm(entry);
    const now = Date.now();
    // The execution timeout starts now: queue time is not execution time.
    entry.startedAt = now;
    let deadline: number;
    try {
      deadline = this.core.sendTo(entry, req, session);
    } catch {
      entry.status = 'queued';
      this.armTimeout(entry, w.enqueuedAt + (req.queueTimeoutMs ?? 0) - now);
      return false;
    }
    this.deps.metrics.queueAssigned?.({ kind: req.kind, waitedMs: now - w.enqueuedAt });
    this.deps.logger.info({ requestId: req.requestId, agentId: session.agentId, waitedMs: now - w.enqueuedAt }, 'queued request assigned');
    this.deps.store
      .recordDispatch({ requestId: req.requestId, organizationId: req.organizationId, agentId: session.agentId, deadline })
      .catch((err: unknown) => this.deps.logger.warn({ requestId: req.requestId, err: errText(err) }, 'could not record dispatch'));
    return true;
  }

  private armTimeout(entry: InFlight, ms: number): void {
    this.core.table.arm(entry, ms, () => this.expire(entry));
  }

  /** The queue timeout passed: the request ends with NO_AGENT_AVAILABLE and the placement explanation. */
  private expire(entry: InFlight): void {
    if (!this.core.table.holds(entry) || entry.status !== 'queued') return;
    const waiting = this.queue.remove(entry.requestId);
    this.deps.metrics.queueDepth?.(this.queue.size);
    entry.status = 'storing';
    entry.timer = null;
    const req = waiting?.req ?? { organizationId: entry.organizationId, kind: entry.kind };
    const why = explainRouting(this.deps.registry, this.deps.selection(), req);
    const waitedMs = waiting ? Date.now() - waiting.enqueuedAt : 0;
    this.deps.metrics.dispatchRejected({ kind: entry.kind, code: 'NO_AGENT_AVAILABLE' });
    this.deps.logger.warn({ requestId: entry.requestId, organizationId: entry.organizationId, waitedMs }, 'queued request timed out');
    this.core.table
      .storeAndSettle(entry, queueTimeoutResult(entry, why, waitedMs, 'without an agent'), null)
      .catch((err: unknown) => this.deps.logger.error({ requestId: entry.requestId, err: errText(err) }, 'queue timeout handling failed'));
  }
}
