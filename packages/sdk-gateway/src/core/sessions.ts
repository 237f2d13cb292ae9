import { randomUUID } from 'node:crypto';
import { AGENT_FEATURES, CloseCode, type Hello, type Logger, encodeMessage, parseAgentMessage } from '@vespid/protocol';
import type { AuthenticatedAgent } from '../authenticator.js';
import type { GatewayCluster } from '../cluster/cluster-types.js';
import type { GatewayMetrics } from '../metrics.js';
import type { AgentHelloInfo, AgentSeen, GatewayEventEmitter } from '../gateway-events.js';
import type { AgentConnection, ConnectionHandle } from './connection.js';
import { presenceOf } from '../selection/candidates.js';
import type { Dispatcher } from './dispatcher.js';
import { errText } from './err-text.js';
import type { Registry } from './registry.js';
import { Session } from './session.js';
import type { TokenRotations } from './token-rotation.js';

/** How long a started close may take before the socket is dropped. */
const CLOSE_GRACE_MS = 10_000;

interface Deps {
  registry: Registry;
  dispatcher: () => Dispatcher;
  logger: Logger;
  metrics: GatewayMetrics;
  staleMs: number;
  heartbeatMs: number;
  maxPayloadBytes: number;
  defaultMaxInFlight: number;
  agentSeenIntervalMs: number;
  /** The gateway's `on()` listeners: connected, disconnected and the coalesced liveness batch. */
  events: Pick<GatewayEventEmitter, 'emit' | 'has'>;
  /** Cluster mode: ready sessions are published so that every replica can select them. */
  cluster?: GatewayCluster | undefined;
  rotations: TokenRotations;
}

/**
 * Session protocol: hello → hello_ack, ping → pong, results to the dispatcher, stale sweep, revocation,
 * replacement (4409) and the coalesced liveness event. Transport-free: it talks to AgentConnection only.
 */
export class SessionManager {
  /** Revoked agent ids: never routed again in this process, even if a stale authenticator says ok. */
  readonly revoked = new Set<string>();
  /**
   * The last pause decision pushed for an agent (true paused, false resumed). It wins over what the
   * authenticator read, which may be older than a pause or resume that raced a reconnect.
   */
  private readonly pausedByControl = new Map<string, boolean>();
  private readonly seen = new Map<string, AgentSeen>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  /** Resolvers of {@link whenEmpty}: settled by the last session's close, not by polling the registry. */
  private emptyWaiters: Array<() => void> = [];

  constructor(private readonly deps: Deps) {}

  start(sweepIntervalMs: number): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), sweepIntervalMs);
    this.sweepTimer.unref?.();
    // Always armed: an `agents.seen` listener may be added at any time; with none, a flush is a no-op.
    this.flushTimer = setInterval(() => this.flushSeen(), this.deps.agentSeenIntervalMs);
    this.flushTimer.unref?.();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.sweepTimer = this.flushTimer = null;
    this.flushSeen();
  }

  /** Resolves once no session is left (at once if none is): close() waits on it instead of polling. */
  whenEmpty(): Promise<void> {
    if (this.deps.registry.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Registers a new authenticated connection. The session becomes routable after its `hello`. */
  connect(connection: AgentConnection, agent: AuthenticatedAgent): ConnectionHandle {
    const paused = this.pausedByControl.get(agent.agentId) ?? agent.paused === true;
    const session = new Session(randomUUID(), connection, { ...agent, tags: [...agent.tags], paused }, Date.now());
    this.deps.registry.all.add(session);
    if (this.revoked.has(agent.agentId)) this.close(session, CloseCode.Revoked, 'agent revoked');
    return {
      receive: (data) => this.receive(session, data),
      closed: (code) => this.closed(session, code ?? 1006),
    };
  }

  /** Closes a session with a code; it stops being routable at once. Idempotent. */
  close(session: Session, code: number, reason: string): void {
    if (session.state === 'closing' || session.state === 'closed') return;
    const wasReady = session.state === 'ready';
    session.state = 'closing';
    session.closingSince = Date.now();
    this.deps.registry.unroute(session);
    if (wasReady) this.withdraw(session);
    if (wasReady) this.deps.metrics.connectedAgents(this.deps.registry.readyCount);
    this.deps.logger.info({ agentId: session.agentId, sessionId: session.sessionId, code, reason }, 'closing agent session');
    try {
      session.connection.close(code, reason);
    } catch {
      session.connection.terminate();
    }
  }

  revoke(agentId: string): number {
    this.revoked.add(agentId);
    let n = 0;
    for (const s of this.deps.registry.all) {
      if (s.agentId !== agentId) continue;
      this.close(s, CloseCode.Revoked, 'agent revoked');
      n++;
    }
    return n;
  }

  retag(agentId: string, tags: readonly string[]): number {
    let n = 0;
    for (const s of this.deps.registry.all) {
      if (s.agentId !== agentId || s.state === 'closed') continue;
      this.deps.registry.retag(s, tags);
      if (s.state === 'ready') this.publish(s);
      if (s.state === 'ready') this.deps.dispatcher().capacity(s.organizationId, true);
      n++;
    }
    return n;
  }

  /**
   * Pauses (cordons) or resumes an agent's sessions. A paused session keeps its socket and its
   * requests in flight but is not selected; in cluster mode its presence is withdrawn so no replica
   * forwards to it. Resuming republishes it and offers it the org's queued requests at once.
   */
  setPaused(agentId: string, paused: boolean): number {
    this.pausedByControl.set(agentId, paused);
    let n = 0;
    for (const s of this.deps.registry.all) {
      if (s.agentId !== agentId || s.state === 'closed' || s.state === 'closing') continue;
      const changed = s.paused !== paused;
      s.paused = paused;
      n++;
      if (!changed || s.state !== 'ready') continue;
      if (paused) this.withdraw(s);
      else {
        this.publish(s);
        this.deps.dispatcher().capacity(s.organizationId);
      }
    }
    return n;
  }

  private receive(session: Session, data: unknown): void {
    if (session.state === 'closing' || session.state === 'closed') return;
    const parsed = parseAgentMessage(data, this.deps.maxPayloadBytes);
    if (!parsed.ok) {
      this.deps.logger.warn({ agentId: session.agentId, reason: parsed.error.reason }, 'protocol violation');
      this.close(session, parsed.error.closeCode, parsed.error.reason);
      return;
    }
    const now = Date.now();
    session.lastSeenAt = now;
    const msg = parsed.message;
    if (session.state === 'awaiting_hello') {
      if (msg.type !== 'hello') {
        this.close(session, CloseCode.ProtocolViolation, `expected hello, got ${msg.type}`);
        return;
      }
      this.hello(session, msg);
      return;
    }
    this.markSeen(session, now);
    switch (msg.type) {
      case 'ping':
        session.send(encodeMessage({ type: 'pong', ts: msg.ts }));
        return;
      case 'hello':
        this.close(session, CloseCode.ProtocolViolation, 'duplicate hello');
        return;
      case 'execute_received':
        this.deps.dispatcher().results.onReceived(session, msg.requestId);
        return;
      case 'execute_result':
        this.deps
          .dispatcher()
          .results.onResult(session, msg)
          .catch((err: unknown) => this.deps.logger.error({ requestId: msg.requestId, err: errText(err) }, 'result handling failed'));
        return;
      case 'rotate_token_ack':
        this.deps.rotations.onAck(session, msg);
        return;
      default:
        // A frame type added to the protocol without a case here fails to compile instead of being
        // silently ignored (parseAgentMessage has already rejected anything unknown at runtime).
        msg satisfies never;
    }
  }

  private hello(session: Session, msg: Hello): void {
    const caps = msg.capabilities;
    const cap = session.agent.maxInFlight ?? Number.POSITIVE_INFINITY;
    session.maxInFlight = Math.max(1, Math.min(caps.maxInFlight ?? this.deps.defaultMaxInFlight, cap));
    session.kinds = new Set(caps.kinds);
    session.connectors = caps.connectors ? new Set(caps.connectors) : null;
    session.reportedTags = caps.tags ?? [];
    session.capabilities = caps;
    session.agentVersion = msg.agentVersion;
    if (!session.agent.name) session.name = msg.name;
    session.state = 'ready';
    const replaced = this.deps.registry.add(session);
    if (replaced) this.close(replaced, CloseCode.Replaced, 'replaced by a newer session');
    this.publish(session);
    session.send(
      encodeMessage({
        type: 'hello_ack',
        sessionId: session.sessionId,
        agentId: session.agentId,
        organizationId: session.organizationId,
        heartbeatMs: this.deps.heartbeatMs,
        // Echoed only to an agent that announced it: an older agent's strict schema has no `features`.
        ...(caps.features?.includes(AGENT_FEATURES.receiptInResult) ? { features: [AGENT_FEATURES.receiptInResult] } : {}),
      }),
    );
    this.deps.metrics.connectedAgents(this.deps.registry.readyCount);
    this.deps.logger.info(
      { agentId: session.agentId, organizationId: session.organizationId, sessionId: session.sessionId, kinds: caps.kinds },
      'agent connected',
    );
    this.markSeen(session, session.lastSeenAt, true);
    // After hello_ack: queued requests of the org may go to this agent now.
    this.deps.dispatcher().capacity(session.organizationId, true);
    // The control plane asked for a new token (or the agent used its previous one): rotate in-band now.
    if (session.agent.rotateToken) this.deps.rotations.start(session);
    if (this.deps.events.has('agent.connected')) {
      const info: AgentHelloInfo = {
        agentId: session.agentId,
        organizationId: session.organizationId,
        sessionId: session.sessionId,
        name: msg.name,
        agentVersion: msg.agentVersion,
        capabilities: structuredClone(caps),
      };
      if (msg.host) info.host = { ...msg.host };
      this.deps.events.emit('agent.connected', info);
    }
  }

  private closed(session: Session, code: number): void {
    if (session.state === 'closed') return;
    const wasReady = session.state === 'ready';
    session.state = 'closed';
    this.deps.registry.unroute(session);
    if (wasReady) this.withdraw(session);
    this.deps.registry.all.delete(session);
    if (wasReady) this.deps.metrics.connectedAgents(this.deps.registry.readyCount);
    this.deps.dispatcher().results.onSessionClosed(session);
    this.deps.rotations.onClosed(session);
    this.deps.logger.info({ agentId: session.agentId, sessionId: session.sessionId, code }, 'agent session closed');
    this.deps.events.emit('agent.disconnected', {
      agentId: session.agentId,
      organizationId: session.organizationId,
      sessionId: session.sessionId,
      code,
    });
    if (this.deps.registry.all.size === 0 && this.emptyWaiters.length > 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Drops a session whose transport never reported its close (forced shutdown). */
  forget(session: Session): void {
    this.closed(session, 1006);
  }

  /** Cluster mode: publishes a selectable session's presence and capacity (not a paused or draining one). */
  private publish(s: Session): void {
    const cluster = this.deps.cluster;
    const presence = presenceOf(s);
    if (!cluster || !presence) return;
    cluster
      .register(presence)
      .catch((err: unknown) => this.deps.logger.warn({ agentId: s.agentId, err: errText(err) }, 'could not publish agent presence'));
  }

  /** Cluster mode: withdraws the presence, unless the agent has registered a newer session since. */
  private withdraw(s: Session): void {
    this.deps.cluster
      ?.unregister(s.agentId, s.sessionId, s.organizationId)
      .catch((err: unknown) => this.deps.logger.warn({ agentId: s.agentId, err: errText(err) }, 'could not withdraw agent presence'));
  }

  /** Closes sessions silent for longer than staleMs (4408). Runs on a timer, never per message. */
  sweep(now: number): void {
    for (const s of this.deps.registry.all) {
      if (s.state === 'closing') {
        // A peer that never answers the close handshake must not hold its slot forever.
        if (now - s.closingSince > CLOSE_GRACE_MS) {
          s.connection.terminate();
          this.closed(s, 1006);
        }
      } else if (now - s.lastSeenAt > this.deps.staleMs) {
        this.close(s, CloseCode.Stale, `no message for ${now - s.lastSeenAt} ms`);
      }
    }
  }

  /** Coalesces liveness: at most one entry per agent per flush, however many pings arrive. */
  private markSeen(session: Session, now: number, force = false): void {
    if (!this.deps.events.has('agents.seen')) return;
    const prev = this.seen.get(session.agentId);
    if (prev && !force) prev.seenAt = now;
    else this.seen.set(session.agentId, { agentId: session.agentId, organizationId: session.organizationId, seenAt: now });
  }

  flushSeen(): void {
    if (this.seen.size === 0) return;
    const batch = [...this.seen.values()];
    this.seen.clear();
    this.deps.events.emit('agents.seen', batch);
  }
}
