import { type DispatchRequest, type StoredResult, encodeMessage } from '@vespid/protocol';
import type { ForwardOutcome } from '../cluster/cluster-types.js';
import type { DispatchRecord } from '../results/result-store.js';
import { ClusterOwner } from './cluster-owner.js';
import { type ClusterRouteDeps, executeFrame, routeInCluster } from './cluster-route.js';
import { type DispatchOutcome, agentIdentity } from './dispatch-outcome.js';
import { errText } from './err-text.js';
import type { InFlight } from './in-flight.js';
import { type RequestTable, retryStoreLater } from './request-table.js';
import type { Session } from './session.js';

/** Pause between two redeliveries of a request whose forward was not acknowledged. */
const RECHECK_MS = 500;

const slotOf = (e: InFlight) => ({ requestId: e.requestId, organizationId: e.organizationId, agentId: e.agentId! });

/**
 * The cluster half of the dispatcher: selection and forwarding through the cluster, settlement by
 * another replica, and redelivery when an agent moves or the replica that routed a request dies.
 */
export class ClusterDispatch {
  /** Owner side: forwarded requests sent to local agents. */
  readonly owner: ClusterOwner;

  constructor(
    private readonly table: RequestTable,
    private readonly deps: ClusterRouteDeps & { isClosing: () => boolean },
  ) {
    this.owner = new ClusterOwner(deps);
  }

  async start(entry: InFlight, req: DispatchRequest): Promise<DispatchOutcome> {
    const route = await routeInCluster(this.deps, req);
    entry.req = req;
    this.table.assign(entry, route, entry.startedAt + req.timeoutMs - Date.now());
    this.deps.logger.debug({ requestId: req.requestId, agentId: route.agentId, replicaId: route.replicaId, kind: req.kind }, 'dispatched');
    if (entry.early) this.table.settle(entry, entry.early);
    else if (route.uncertain) this.recheck(entry);
    return { kind: 'dispatched', ...agentIdentity(route.agentId, route.session) };
  }

  /**
   * Cluster mode: a caller repeats a request whose routing replica died (kill -9) before the result.
   * This replica adopts it: it owns the record from now on and redelivers to the agent, which ignores
   * a request it already runs or holds a result for.
   */
  async adoptIfOrphaned(entry: InFlight, req: DispatchRequest, record: { replicaId?: string | undefined; deadline: number }) {
    const c = this.deps.cluster;
    if (!entry.agentId || !record.replicaId || record.replicaId === c.replicaId) return;
    if (await c.isAlive(record.replicaId)) return;
    entry.req = req;
    await this.deps.store.recordDispatch({ ...slotOf(entry), deadline: record.deadline, replicaId: c.replicaId });
    this.deps.logger.info(
      { requestId: req.requestId, agentId: entry.agentId, from: record.replicaId },
      'adopted a request of a dead replica',
    );
    const at = await c.locate(entry.agentId, entry.organizationId);
    // Not connected anywhere yet: its registration announces it and redeliverTo() runs then.
    if (at) await this.redeliver(entry, at.replicaId);
  }

  /**
   * Cluster mode: a forward went unanswered. Its replica may have died while the agent moved on, or the
   * message or its acknowledgement was lost while the Redis shard of a channel failed over (the target
   * re-subscribes on the promoted replica). Redeliver wherever the agent is now, the same replica
   * included: the owner checks the store first and the agent ignores a request it already runs or holds
   * a result for. Again every {@link RECHECK_MS} until an owner answers or the request settles; an agent
   * connected nowhere triggers redeliverTo() when it registers.
   */
  private recheck(entry: InFlight): void {
    const c = this.deps.cluster;
    const again = () => {
      const timer = setTimeout(() => {
        if (this.table.holds(entry) && entry.status === 'sent') this.recheck(entry);
      }, RECHECK_MS);
      timer.unref?.();
    };
    c.locate(entry.agentId!, entry.organizationId)
      .then(async (at) => {
        if (at && (await this.redeliver(entry, at.replicaId)) === 'unknown') again();
      })
      .catch((err: unknown) => {
        this.deps.logger.warn({ requestId: entry.requestId, err: errText(err) }, 'redelivery failed');
        again();
      });
  }

  /** Cluster mode: an agent with requests in flight (re)registered on `replicaId`. */
  redeliverTo(agentId: string, replicaId: string): void {
    for (const entry of this.table.inflight.values()) {
      if (entry.agentId !== agentId || entry.status !== 'sent' || !entry.req) continue;
      this.redeliver(entry, replicaId).catch((err: unknown) =>
        this.deps.logger.warn({ requestId: entry.requestId, err: errText(err) }, 'redelivery failed'),
      );
    }
  }

  /** Sends the request again to the agent on `replicaId`: the forward's outcome, or 'local' when it is here. */
  private async redeliver(entry: InFlight, replicaId: string): Promise<ForwardOutcome | 'local'> {
    const c = this.deps.cluster;
    const req = entry.req!;
    const current = () => this.table.holds(entry) && entry.status === 'sent';
    if (replicaId !== c.replicaId) {
      const out = await c.forward(replicaId, { ...req, agentId: entry.agentId!, sessionId: '', origin: c.replicaId, redelivery: true });
      if (out === 'accepted' && current()) {
        entry.replicaId = replicaId;
        entry.session = null;
      }
      return out;
    }
    const s = this.deps.registry.currentFor(entry.agentId!);
    if (s?.state !== 'ready') return 'local';
    // Checked on the connection that stores this agent's results, right before sending: a result stored
    // first is found here, and its ack reaches the agent only after this execute (same socket, in order).
    const stored = await this.deps.store.get(req.requestId);
    if (!current()) return 'local';
    if (stored) this.table.settle(entry, stored);
    else if (s.send(executeFrame(req))) {
      entry.replicaId = replicaId;
      entry.session = s;
    }
    return 'local';
  }

  /** Cluster mode: another replica stored the result of a request this replica dispatched. */
  settleRemote(result: StoredResult): void {
    const entry = this.table.inflight.get(result.requestId);
    if (!entry || entry.organizationId !== result.organizationId) return;
    if (entry.status === 'reserving') entry.early = result;
    else if (entry.status === 'sent') this.table.settle(entry, result);
  }

  /**
   * Owner side: a result for a request forwarded to `session` through this replica. Stored without a
   * record lookup, acked, its slot freed and its routing replica told. False if it is not one of those.
   */
  storeForwarded(session: Session, stored: StoredResult): boolean {
    const held = this.owner.take(stored.requestId, session);
    if (!held) return false;
    const attempt = async (): Promise<void> => {
      try {
        await this.deps.store.put(stored);
      } catch (err) {
        this.deps.logger.error({ requestId: stored.requestId, agentId: held.agentId, err: errText(err) }, 'could not store result');
        retryStoreLater(
          () => Date.now() < held.deadline,
          () => void attempt(),
        );
        return;
      }
      session.send(encodeMessage({ type: 'execute_ack', requestId: stored.requestId }));
      this.release(stored.requestId, held.agentId, held.organizationId);
      this.owner.notify(held, stored);
    };
    void attempt();
    return true;
  }

  /** Queued dispatch: called once a freed slot is released in the cluster (capacity for the org). */
  onReleased: ((organizationId: string) => void) | null = null;

  /** Frees the request's in-flight slot (idempotent cluster-wide). */
  release(requestId: string, agentId: string, organizationId: string): void {
    this.deps.cluster
      .release({ requestId, agentId, organizationId })
      .then(() => this.onReleased?.(organizationId))
      .catch((err: unknown) => this.deps.logger.warn({ requestId, err: errText(err) }, 'could not release the in-flight slot'));
  }

  /**
   * This replica stored a result for a request it had no entry for (routed by another replica, or
   * before a restart): free the slot and tell the replica that routed it, whose callers wait.
   */
  storedForOther(stored: StoredResult, record: DispatchRecord): void {
    const c = this.deps.cluster;
    const log = { requestId: stored.requestId, agentId: record.agentId };
    this.release(stored.requestId, record.agentId, record.organizationId);
    if (record.replicaId && record.replicaId !== c.replicaId) {
      c.notifySettled(record.replicaId, stored).catch((err: unknown) =>
        this.deps.logger.warn({ ...log, err: errText(err) }, 'could not notify the replica that routed the request'),
      );
      this.deps.logger.debug(log, 'result of a request routed by another replica stored');
    } else this.deps.logger.info(log, 'result recovered after restart');
  }
}
