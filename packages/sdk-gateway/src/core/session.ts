import type { Capabilities } from '@vespid/protocol';
import type { AuthenticatedAgent } from '../authenticator.js';
import type { SelectionCandidate } from '../selection/strategy.js';
import type { AgentConnection } from './connection.js';
import type { RotateTokenAck } from '@vespid/protocol';
import type { LruNode } from './lru-pool.js';

/** A rotation waiting for the agent's `rotate_token_ack`. */
export interface PendingRotation {
  readonly rotationId: string;
  /** Resolves the wait: the ack, or null when the session closed or the ack timed out. */
  settle?: (ack: RotateTokenAck | null) => void;
}

/** Lifecycle of one agent connection. */
export type SessionState = 'awaiting_hello' | 'ready' | 'closing' | 'closed';

/**
 * One agent connection. Sessions are keyed by connection, not by agent: a reconnecting agent gets a
 * new Session and the old one can only remove itself, never its successor.
 */
export class Session implements SelectionCandidate {
  state: SessionState = 'awaiting_hello';
  name: string;
  agentVersion = '';
  tags: Set<string>;
  reportedTags: readonly string[] = [];
  kinds: ReadonlySet<string> = new Set();
  /** null = the agent did not declare connectors; it may run any connector. */
  connectors: ReadonlySet<string> | null = null;
  capabilities: Capabilities | null = null;
  maxInFlight = 0;
  /** Paused (cordoned): never selected for new work; requests already sent run to the end. */
  paused: boolean;
  /**
   * Draining: the agent refused a task with AGENT_SHUTDOWN. It finishes what it runs but is never
   * selected again (its in-flight count falls as it drains, which made least-in-flight pick it).
   */
  draining = false;
  /** Requests counted against `maxInFlight`; changed only by {@link reserveSlot} and {@link releaseSlot}. */
  private slots = 0;
  lastDispatchSeq = 0;
  lastSeenAt: number;
  /** A token rotation waiting for this session's `rotate_token_ack`. */
  rotation: PendingRotation | null = null;
  /** When a close was started; a close that never completes is forced by the sweep. */
  closingSince = 0;
  readonly connectedAt: number;
  /** This session's node in each index pool, by key (for O(1) LRU moves and removal per pool). */
  readonly pools = new Map<string, LruNode<Session>>();

  constructor(
    readonly sessionId: string,
    readonly connection: AgentConnection,
    readonly agent: AuthenticatedAgent,
    now: number,
  ) {
    this.name = agent.name ?? agent.agentId;
    this.tags = new Set(agent.tags);
    this.paused = agent.paused === true;
    this.connectedAt = now;
    this.lastSeenAt = now;
  }

  get agentId(): string {
    return this.agent.agentId;
  }

  get organizationId(): string {
    return this.agent.organizationId;
  }

  /** Requests currently running on this session (what selection and `listSessions` see). */
  get inFlight(): number {
    return this.slots;
  }

  /**
   * Counts one request against `maxInFlight`. `dispatchSeq`: a dispatch chosen by selection, which
   * records it for least-recently-used ordering (a forwarded or held request does not).
   */
  reserveSlot(dispatchSeq?: number): void {
    this.slots++;
    if (dispatchSeq !== undefined) this.lastDispatchSeq = dispatchSeq;
  }

  /** Frees a slot taken by {@link reserveSlot}; never below zero. */
  releaseSlot(): void {
    this.slots = Math.max(0, this.slots - 1);
  }

  /** Sends a frame unless the session is already going away. Never throws. */
  send(text: string): boolean {
    if (this.state === 'closed') return false;
    try {
      this.connection.send(text);
      return true;
    } catch {
      return false;
    }
  }
}
