import type { Explanation } from './selection/candidates.js';

/**
 * Outcome of `gateway.dispatchAsync()`.
 * @example
 * ```ts
 * const r = await gateway.dispatchAsync(request);
 * if (r.dispatched) log.info({ agentId: r.agentId }, 'sent');
 * ```
 */
export type DispatchAsyncOutcome =
  | { requestId: string; dispatched: true; agentId: string; agentName?: string }
  | { requestId: string; dispatched: false; cached: true }
  /** Already running (or assigned from the queue): the agent when this replica knows it. */
  | { requestId: string; dispatched: false; inFlight: true; agentId?: string; agentName?: string }
  | { requestId: string; dispatched: false; queued: true; position: number; explanation: Explanation };

/**
 * Where a request stands in the queue: the answer's `queue` field of `gateway.explain()`.
 * @example
 * ```ts
 * const { queue } = gateway.explain({ organizationId, kind, requestId });
 * if (queue?.position) log.info({ position: queue.position, depth: queue.depth }, 'still waiting');
 * ```
 */
export interface QueueInfo {
  /** Requests of the organization waiting for an agent. */
  depth: number;
  /** 1-based position of `requestId` in the organization's queue; null when it is not waiting. */
  position: number | null;
}

/**
 * Lifecycle of a gateway. `idle`: a cluster gateway before `start()` resolved (a single replica starts
 * `running`).
 * @example
 * ```ts
 * if (gateway.state === 'running') gateway.attach(server);
 * ```
 */
export type GatewayState = 'idle' | 'running' | 'closing' | 'closed';

/**
 * One connected agent session as reported by `listSessions()`.
 * @example
 * ```ts
 * const online = gateway.listSessions().filter((s: SessionInfo) => s.state === 'ready');
 * ```
 */
export interface SessionInfo {
  sessionId: string;
  agentId: string;
  organizationId: string;
  name: string;
  state: 'awaiting_hello' | 'ready' | 'closing' | 'closed';
  tags: string[];
  reportedTags: string[];
  kinds: string[];
  connectors: string[] | null;
  inFlight: number;
  maxInFlight: number;
  connectedAt: number;
  lastSeenAt: number;
  remoteAddress: string | undefined;
  /** The version the agent sent in `hello`. */
  agentVersion: string;
  /** Paused (cordoned) by the control plane: not selected for new work. */
  paused: boolean;
  /** Requests sent to this session and not yet answered (`startedAt`: when it was assigned). */
  requests: Array<{ requestId: string; kind: string; startedAt: number; received: boolean }>;
}
