import type { StoredResult } from '@vespid/protocol';
import type { SelectionName } from '../selection/strategy.js';

/**
 * What a replica publishes about one of its ready agent sessions, so that every replica can select it.
 * @example
 * ```ts
 * await cluster.register({ agentId: 'a1', organizationId: 'org1', sessionId: 's1', maxInFlight: 10, kinds: ['agent.execute'], connectors: null, tags: ['east'] });
 * ```
 */
export interface AgentPresence {
  agentId: string;
  organizationId: string;
  sessionId: string;
  maxInFlight: number;
  kinds: readonly string[];
  /** null = the agent runs any connector. */
  connectors: readonly string[] | null;
  /** Control-plane tags (routing). */
  tags: readonly string[];
}

/**
 * One cluster-wide selection with an atomic in-flight reservation.
 * @example
 * ```ts
 * const r = await cluster.reserve({ requestId, organizationId: 'org1', kind: 'agent.execute', strategy: 'round_robin', deadline: Date.now() + 60_000 });
 * ```
 */
export interface ReserveRequest {
  requestId: string;
  organizationId: string;
  kind: string;
  /** `payload.connectorId` of a `connector.action` request. */
  connectorId?: string | undefined;
  /** Control-plane tag the agent must carry (`group:x` for a group selector). */
  tag?: string | undefined;
  /** A specific agent. */
  agentId?: string | undefined;
  strategy: SelectionName;
  /** Epoch ms after which the reservation lapses by itself (the request's deadline). */
  deadline: number;
}

/**
 * Where a reservation landed, or why none could be made.
 * @example
 * ```ts
 * const r: ReserveOutcome = await cluster.reserve(request);
 * if (r.ok && r.replicaId !== cluster.replicaId) await cluster.forward(r.replicaId, message);
 * ```
 */
export type ReserveOutcome =
  | { ok: true; agentId: string; sessionId: string; replicaId: string }
  | { ok: false; reason: 'no_agent' | 'quota'; quota?: number };

/**
 * An `execute` handed from the replica that accepted a dispatch to the replica holding the agent's socket.
 * It travels over Redis pub/sub only (never stored), because it may carry the request's secret.
 * @example
 * ```ts
 * const msg: ForwardedExecute = { requestId, organizationId, agentId, sessionId, kind, payload, timeoutMs: 60_000, origin: cluster.replicaId };
 * ```
 */
export interface ForwardedExecute {
  requestId: string;
  organizationId: string;
  agentId: string;
  sessionId: string;
  kind: string;
  payload: unknown;
  secret?: string | undefined;
  timeoutMs: number;
  /** Replica that accepted the dispatch (gets the acknowledgement and the settlement). */
  origin: string;
  /**
   * A second delivery after the agent moved or its replica died: the owner first checks that no result
   * is stored, and the agent itself ignores a request it is running or holds a result for.
   */
  redelivery?: boolean | undefined;
}

/**
 * Result of a forward: `accepted` (the owner sent it to the agent), `refused` (the owner no longer holds
 * that agent), `unreachable` (no replica listens on that id: it died) or `unknown` (no answer in time; it
 * may have been sent, so it must not be sent again).
 * @example
 * ```ts
 * if ((await cluster.forward(replicaId, msg)) === 'unreachable') await cluster.forget(agentId, replicaId, organizationId);
 * ```
 */
export type ForwardOutcome = 'accepted' | 'refused' | 'unreachable' | 'unknown';

/**
 * What a cluster calls back into its gateway.
 * @example
 * ```ts
 * cluster.bind({ execute: (m) => sendToLocalAgent(m), cancel: () => {}, settled: (r) => resolveWaiters(r) });
 * ```
 */
export interface ClusterHooks {
  /** Owner side: send this execute to the local session of `agentId`; false if there is none. */
  execute(message: ForwardedExecute): boolean | Promise<boolean>;
  /** Owner side: the origin gave up on a request (timeout): cancel it on the local agent. */
  cancel(requestId: string, agentId: string, reason: string): void;
  /** Origin side: another replica stored the result of a request this replica dispatched. */
  settled(result: StoredResult): void;
  /** An agent with requests in flight registered (again) on `replicaId`: redeliver what it may have missed. */
  moved(agentId: string, replicaId: string): void;
  /** Queued dispatch: some replica saw capacity for the organization while requests of it wait. */
  capacity?(organizationId: string): void;
}

/**
 * Answer of {@link GatewayCluster.enqueue}: queued (or already queued, by `origin`), or the org's bound is reached.
 * @example
 * ```ts
 * const r: ClusterEnqueueOutcome = await cluster.enqueue!({ requestId, organizationId, deadline, max: 10_000 });
 * ```
 */
export type ClusterEnqueueOutcome = { ok: true; origin: string; position: number; existing: boolean } | { ok: false; reason: 'full' };

/**
 * The scale-out seam of `createGateway({ cluster })`: agent presence and capacity shared by every
 * replica, atomic reservation, and the replica-to-replica message bus. The built-in implementation is
 * `redisCluster()` from `@vespid/sdk-gateway/redis`.
 *
 * @example
 * ```ts
 * import { redisCluster } from '@vespid/sdk-gateway/redis';
 * const cluster: GatewayCluster = redisCluster({ redis, replicaId: 'gw-1' });
 * const gateway = createGateway({ authenticator, serviceToken, resultStore, cluster });
 * await gateway.start(); // starts the cluster
 * ```
 */
export interface GatewayCluster {
  /** This replica's id (unique among live replicas). */
  readonly replicaId: string;
  /** Connects the gateway's callbacks; called once by `createGateway`. */
  bind(hooks: ClusterHooks): void;
  /** Starts listening for forwarded messages and refreshing presence. Idempotent. */
  start(): Promise<void>;
  /** Publishes (or refreshes) a local ready session. */
  register(presence: AgentPresence): Promise<void>;
  /** Withdraws a local session, unless the agent has since registered another session. */
  unregister(agentId: string, sessionId: string, organizationId: string): Promise<void>;
  /** Selects an agent cluster-wide and reserves one in-flight slot on it (and on the org quota). */
  reserve(request: ReserveRequest): Promise<ReserveOutcome>;
  /** Frees the slot of a request. Idempotent: any replica may call it, any number of times. */
  release(request: { requestId: string; agentId: string; organizationId: string }): Promise<void>;
  /** Sends an execute to the replica that holds the agent and waits for its acknowledgement. */
  forward(replicaId: string, message: ForwardedExecute): Promise<ForwardOutcome>;
  /** Asks the owner replica to cancel a request on its agent (no acknowledgement). */
  cancel(replicaId: string, request: { requestId: string; agentId: string; reason: string }): Promise<void>;
  /** Tells the origin replica that a result was stored. */
  notifySettled(replicaId: string, result: StoredResult): Promise<void>;
  /** Where an agent is connected now, or null. */
  locate(agentId: string, organizationId: string): Promise<{ replicaId: string; sessionId: string } | null>;
  /** Whether a replica is alive (listening on the bus). */
  isAlive(replicaId: string): Promise<boolean>;
  /** Removes the presence of an agent held by a replica that no longer answers. */
  forget(agentId: string, replicaId: string, organizationId: string): Promise<void>;
  /**
   * Queued dispatch, cluster-wide index (optional: without it a clustered gateway does not queue). Adds
   * the request to the organization's FIFO in the cluster with this replica as its origin (the replica
   * holding the request body: bodies may carry secrets and are never stored), or reports where it waits.
   */
  enqueue?(entry: { requestId: string; organizationId: string; deadline: number; max: number }): Promise<ClusterEnqueueOutcome>;
  /** Takes a waiting request out of the index before routing it; false when another replica took it or it is gone. */
  claimQueued?(requestId: string, organizationId: string): Promise<{ ok: true; score: number } | { ok: false }>;
  /** Puts a claimed request back at its place (`score`) because no agent could take it. */
  requeue?(requestId: string, organizationId: string, score: number, deadline: number): Promise<void>;
  /** Removes a waiting request from the index (timed out, cancelled). */
  dequeue?(requestId: string, organizationId: string): Promise<void>;
  /** Makes this replica the origin of a waiting request whose origin died (the caller repeated it here). */
  adoptQueued?(requestId: string, organizationId: string, deadline: number): Promise<void>;
  /** Tells every replica that capacity appeared for the org, if requests of it wait. Resolves true if any did. */
  announceCapacity?(organizationId: string): Promise<boolean>;
  /** Requests of the org waiting across the cluster. */
  queueDepth?(organizationId: string): Promise<number>;
  /** Withdraws every local session at once (shutdown): no replica selects them any more. */
  drain(): Promise<void>;
  /** Stops listening and refreshing. Idempotent. Never closes the caller's Redis client. */
  close(): Promise<void>;
  readonly closed: boolean;
}
