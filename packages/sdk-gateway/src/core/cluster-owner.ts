import { type Logger, type StoredResult, encodeMessage } from '@vespid/protocol';
import type { ForwardedExecute, GatewayCluster } from '../cluster/cluster-types.js';
import type { ResultStore } from '../results/result-store.js';
import { executeFrame } from './cluster-route.js';
import type { Registry } from './registry.js';
import type { Session } from './session.js';

/** A forwarded request this replica sent to one of its agents, until its result is stored here. */
export interface HeldRequest {
  origin: string;
  agentId: string;
  organizationId: string;
  session: Session;
  /** Epoch ms: the request's own deadline. */
  deadline: number;
  timer: NodeJS.Timeout;
}

/** How long past its timeout a held request is kept when no result comes (the origin times it out). */
const HOLD_GRACE_MS = 10_000;

/**
 * The owner side of forwarding: sends forwarded executes to local sessions and remembers them, so that
 * their result is stored without a record lookup and the session's `inFlight` (listSessions) counts them.
 */
export class ClusterOwner {
  private readonly held = new Map<string, HeldRequest>();

  constructor(
    private readonly deps: {
      cluster: GatewayCluster;
      registry: Registry;
      store: ResultStore;
      logger: Logger;
      isClosing: () => boolean;
    },
  ) {}

  private live(m: ForwardedExecute): Session | undefined {
    const s = this.deps.registry.currentFor(m.agentId);
    return !this.deps.isClosing() && s?.state === 'ready' && s.organizationId === m.organizationId ? s : undefined;
  }

  /** A forwarded execute: true once it is on the agent's socket. */
  execute(m: ForwardedExecute): boolean | Promise<boolean> {
    if (!this.live(m)) return false;
    if (!m.redelivery) return this.send(m);
    // A redelivery: if the result is already stored, tell the origin instead of sending it again.
    return this.deps.store.get(m.requestId).then((stored) => {
      if (!stored) return this.send(m);
      this.deps.cluster.notifySettled(m.origin, stored).catch(() => {});
      return true;
    });
  }

  private send(m: ForwardedExecute): boolean {
    const s = this.live(m);
    if (!s?.send(executeFrame(m))) return false;
    this.drop(m.requestId);
    s.reserveSlot();
    const timer = setTimeout(() => this.drop(m.requestId), m.timeoutMs + HOLD_GRACE_MS);
    timer.unref?.();
    const deadline = Date.now() + m.timeoutMs;
    this.held.set(m.requestId, { origin: m.origin, agentId: m.agentId, organizationId: m.organizationId, session: s, deadline, timer });
    return true;
  }

  /** The origin timed the request out: cancel it on the agent. */
  cancel(requestId: string, agentId: string, reason: string): void {
    const h = this.held.get(requestId);
    const s = h?.session.state === 'ready' ? h.session : this.deps.registry.currentFor(agentId);
    s?.send(encodeMessage({ type: 'cancel', requestId, reason }));
    this.drop(requestId);
  }

  /** The held request a result from `session` belongs to (and forgets it), or undefined. */
  take(requestId: string, session: Session): HeldRequest | undefined {
    const h = this.held.get(requestId);
    if (!h || h.agentId !== session.agentId || h.organizationId !== session.organizationId) return undefined;
    this.drop(requestId);
    return h;
  }

  /** Tells the origin its request settled here. */
  notify(h: HeldRequest, result: StoredResult): void {
    if (h.origin === this.deps.cluster.replicaId) return;
    this.deps.cluster
      .notifySettled(h.origin, result)
      .catch((err: unknown) =>
        this.deps.logger.warn(
          { requestId: result.requestId, err: (err as Error).message },
          'could not notify the replica that routed the request',
        ),
      );
  }

  clear(): void {
    for (const id of [...this.held.keys()]) this.drop(id);
  }

  private drop(requestId: string): void {
    const h = this.held.get(requestId);
    if (!h) return;
    this.held.delete(requestId);
    clearTimeout(h.timer);
    h.session.releaseSlot();
  }
}
