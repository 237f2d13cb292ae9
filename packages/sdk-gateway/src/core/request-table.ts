import { type DispatchRequest, type Logger, type StoredResult, encodeMessage } from '@vespid/protocol';
import type { GatewayCluster } from '../cluster/cluster-types.js';
import { GatewayError } from '../errors.js';
import type { EmitGatewayEvent } from '../gateway-events.js';
import type { GatewayMetrics } from '../metrics.js';
import type { ResultStore } from '../results/result-store.js';
import type { RequestTrace } from '../tracing.js';
import { agentIdentity } from './dispatch-outcome.js';
import { errText } from './err-text.js';
import type { InFlight } from './in-flight.js';
import type { Registry } from './registry.js';
import type { Session } from './session.js';

/** Pause between attempts to store a result the store refused (its backend is down). */
export const STORE_RETRY_MS = 500;

/**
 * The one store-retry policy. A result the store refused is not acked, so the agent keeps it, but it
 * resends only after a reconnect: the gateway tries again every {@link STORE_RETRY_MS} while `wanted()`
 * holds (the request is still in flight here, before its deadline), e.g. while Redis restarts.
 */
export function retryStoreLater(wanted: () => boolean, attempt: () => void): void {
  const timer = setTimeout(() => {
    if (wanted()) attempt();
  }, STORE_RETRY_MS);
  timer.unref?.();
}

/** Where a request went: the agent, its session when local (null: another replica holds it), its replica. */
export interface Assignment {
  agentId: string;
  session: Session | null;
  replicaId?: string | null;
}

interface Deps {
  registry: Registry;
  store: ResultStore;
  logger: Logger;
  metrics: GatewayMetrics;
  /** `request.dispatched` and `request.settled` for the gateway's `on()` listeners. */
  emit?: EmitGatewayEvent | undefined;
  /** Cluster mode: an expired request routed to another replica is cancelled there. */
  cluster?: GatewayCluster | undefined;
}

/**
 * The requests this gateway is responsible for, local or clustered: each is opened, assigned to an
 * agent (its slot reserved on the session), armed with its deadline, and ends exactly once: settled by
 * a result, expired by its deadline, forgotten (cancelled while queued) or failed by shutdown.
 */
export class RequestTable {
  readonly inflight = new Map<string, InFlight>();
  private seq = 0;
  /** Called once a request settled (after its local slot is released): capacity, cluster release. */
  onSettled: (entry: InFlight) => void = () => {};

  constructor(private readonly deps: Deps) {}

  get size(): number {
    return this.inflight.size;
  }

  /** Whether `entry` is still the table's entry for its request (not settled or replaced). */
  holds(entry: InFlight): boolean {
    return this.inflight.get(entry.requestId) === entry;
  }

  /** A new entry, reserving the request id synchronously so two concurrent starts never both send. */
  open(req: DispatchRequest, trace: RequestTrace | undefined): InFlight {
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
      answer: null,
      req: null,
      record: null,
      waiters: [],
      trace,
    };
    this.inflight.set(req.requestId, entry);
    return entry;
  }

  /**
   * The request is on its way to `to`: marks it sent, reserves its slot on the local session (which
   * moves to the end of the LRU order) and arms its deadline `ms` from now.
   */
  assign(entry: InFlight, to: Assignment, ms: number): void {
    if (to.session) {
      to.session.reserveSlot(++this.seq);
      this.deps.registry.touch(to.session);
    }
    entry.status = 'sent';
    entry.agentId = to.agentId;
    entry.session = to.session;
    if (to.replicaId !== undefined) entry.replicaId = to.replicaId;
    this.arm(entry, ms);
    this.deps.metrics.inFlight(this.inflight.size);
    this.deps.emit?.('request.dispatched', {
      requestId: entry.requestId,
      organizationId: entry.organizationId,
      kind: entry.kind,
      agentId: to.agentId,
      ...(to.replicaId ? { replicaId: to.replicaId } : {}),
    });
  }

  /** Arms the entry's one timer; by default its execution deadline ({@link expire}). */
  arm(entry: InFlight, ms: number, onTimeout: () => void = () => this.expireSafely(entry)): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(onTimeout, Math.max(1, ms));
    entry.timer.unref?.();
  }

  disarm(entry: InFlight): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
  }

  /** Resolves with the stored result of a request in the table; null if it is not here. */
  wait(requestId: string, signal: AbortSignal | undefined, onAbandoned: (entry: InFlight) => void): Promise<StoredResult> | null {
    const entry = this.inflight.get(requestId);
    if (!entry) return null;
    if (entry.answer) return Promise.resolve(entry.answer);
    return new Promise<StoredResult>((resolve, reject) => {
      const waiter = { resolve, reject };
      entry.waiters.push(waiter);
      if (!signal) return;
      const onAbort = () => {
        const i = entry.waiters.indexOf(waiter);
        if (i >= 0) entry.waiters.splice(i, 1);
        reject(new GatewayError('TASK_CANCELLED', 'the caller stopped waiting'));
        if (entry.waiters.length === 0) onAbandoned(entry);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Stores the result, acks it to `session` (the agent that sent it) and settles. When the store refuses
   * and an agent holds the result, {@link retryStoreLater} tries again.
   *
   * Answering early: when {@link answersEarly} holds, the waiting callers get the agent's result as soon
   * as the write has started, not after it. The agent is still acked only once the result is stored, so
   * a crash before that loses nothing (the agent resends after reconnecting), and the entry stays in the
   * table (status `storing`) until then: a repeat of the request meanwhile gets the same answer, never
   * a second run. Slot release, metrics and `request.settled` still come after the store, so
   * `request.settled` keeps meaning "stored".
   */
  async storeAndSettle(entry: InFlight, stored: StoredResult, session: Session | null): Promise<void> {
    const traced = entry.trace?.result(stored);
    try {
      const { store, logger } = this.deps;
      const early = this.answersEarly(entry, session);
      let putting: Promise<boolean>;
      try {
        putting = store.put(stored);
      } catch (err) {
        putting = Promise.reject(err);
      }
      if (early) this.answer(entry, stored);
      let final = stored;
      try {
        if (!(await putting)) final = (await store.get(stored.requestId)) ?? stored;
      } catch (err) {
        logger.error({ requestId: stored.requestId, err: errText(err) }, 'could not store result');
        if (session) {
          // An answered request keeps `storing` (its deadline must not store another outcome) and is
          // retried for as long as it is here; otherwise the deadline ends the retries as before.
          if (!early) entry.status = 'sent';
          const status = entry.status;
          retryStoreLater(
            () => this.holds(entry) && entry.status === status,
            () => {
              entry.status = 'storing';
              void this.storeAndSettle(entry, stored, session).catch(() => undefined);
            },
          );
          return;
        }
      }
      if (early && final !== stored)
        logger.error({ requestId: stored.requestId }, 'a result was already stored for a request answered early; the stored one stands');
      if (session) session.send(encodeMessage({ type: 'execute_ack', requestId: stored.requestId }));
      this.settle(entry, final);
    } finally {
      traced?.();
    }
  }

  /**
   * Whether `session`'s result may answer callers before it is stored. Only when nothing else can have
   * stored a different result for the request, so the answer is the one that will be stored:
   * - one replica: in cluster mode another replica may adopt the request (it judged this one dead) and
   *   store a timeout, and results of forwarded requests are stored by the replica holding the agent;
   * - sent by this table to this very session (not a resend on a later session, not an entry rebuilt from
   *   a dispatch record after a restart), and accepted as its first result: its status went from `sent`
   *   to `storing` before this call, so the deadline and the disconnect handling no longer write one.
   */
  private answersEarly(entry: InFlight, session: Session | null): session is Session {
    return !this.deps.cluster && session !== null && entry.session === session && entry.record === null && this.holds(entry);
  }

  /** Resolves the current callers with `result` and answers later ones at once, until the entry settles. */
  private answer(entry: InFlight, result: StoredResult): void {
    if (entry.answer) return;
    entry.answer = result;
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const w of waiters) w.resolve(result);
  }

  /** Ends the request with `result`: frees its slot, reports it and resolves its callers. Once only. */
  settle(entry: InFlight, result: StoredResult): void {
    if (!this.holds(entry)) return;
    this.drop(entry);
    entry.session?.releaseSlot();
    this.onSettled(entry);
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
    this.deps.emit?.('request.settled', {
      requestId: entry.requestId,
      organizationId: entry.organizationId,
      kind: entry.kind,
      status: result.status,
      ...(result.error ? { code: result.error.code } : {}),
      durationMs,
      ...(entry.agentId ? { agentId: entry.agentId } : {}),
    });
    for (const w of entry.waiters) w.resolve(result);
  }

  /** Forgets an entry that ends without a result (cancelled while queued, failed before sending). */
  drop(entry: InFlight): void {
    this.disarm(entry);
    if (this.holds(entry)) this.inflight.delete(entry.requestId);
  }

  /** Shutdown: fails every caller with GATEWAY_SHUTDOWN and forgets the requests (results may still arrive later). */
  shutdown(): void {
    const err = new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');
    for (const entry of this.inflight.values()) {
      this.disarm(entry);
      for (const w of entry.waiters) w.reject(err);
    }
    this.inflight.clear();
    this.deps.metrics.inFlight(0);
  }

  private expireSafely(entry: InFlight): void {
    this.expire(entry).catch((err: unknown) =>
      this.deps.logger.error({ requestId: entry.requestId, err: errText(err) }, 'timeout handling failed'),
    );
  }

  /** The deadline passed without a result: store a failure unless a real result won the race. */
  private async expire(entry: InFlight): Promise<void> {
    if (!this.holds(entry) || entry.status === 'storing') return;
    entry.status = 'storing';
    const c = this.deps.cluster;
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
}
