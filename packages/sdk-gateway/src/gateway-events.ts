import { type Logger, TypedEvents } from '@vespid/protocol';

/**
 * One agent seen since the last liveness flush.
 * @example
 * ```ts
 * gateway.on('agents.seen', (batch: AgentSeen[]) => db.touch(batch.map((b) => b.agentId)));
 * ```
 */
export interface AgentSeen {
  agentId: string;
  organizationId: string;
  /** Epoch ms of the latest frame. */
  seenAt: number;
}

/**
 * What an agent reported in `hello` (hints for the control plane; never used for routing tags).
 * @example
 * ```ts
 * gateway.on('agent.connected', (info: AgentHelloInfo) => db.saveCapabilities(info.agentId, info.capabilities));
 * ```
 */
export interface AgentHelloInfo {
  agentId: string;
  organizationId: string;
  sessionId: string;
  name: string;
  agentVersion: string;
  capabilities: { kinds: string[]; connectors?: string[]; tags?: string[]; maxInFlight?: number };
  /** Where the agent runs, when it reported it (`hello.host`). */
  host?: { os: string; arch: string; hostname: string; nodeVersion: string };
}

/**
 * Observational events of a gateway, with their payloads. Identities, kinds, codes and timings only:
 * never a payload, an output or a secret. Listeners run synchronously on the gateway's path, so keep
 * them cheap; one that throws (or returns a rejected promise) is logged and never breaks the gateway.
 *
 * @example
 * ```ts
 * gateway.on('agent.connected', ({ agentId, agentVersion }) => log.info({ agentId, agentVersion }, 'agent online'));
 * gateway.on('request.settled', ({ requestId, status, durationMs }) => log.info({ requestId, status, durationMs }, 'settled'));
 * ```
 */
export interface GatewayEvents {
  /** An agent session completed `hello` and is routable (it was `onAgentHello`). */
  'agent.connected': AgentHelloInfo;
  /** An agent session closed, with its close code (it was `onAgentDisconnected`). */
  'agent.disconnected': { agentId: string; organizationId: string; sessionId: string; code: number };
  /**
   * Coalesced liveness, at most once every `agentSeenIntervalMs` and once more on close: one entry per
   * agent however many frames it sent (it was `onAgentSeen`).
   */
  'agents.seen': AgentSeen[];
  /** A request found no eligible agent and waits in its organization's queue (`queueTimeoutMs`). */
  'request.queued': { requestId: string; organizationId: string; kind: string; position: number };
  /**
   * A request this gateway is responsible for is on its way to an agent. `replicaId` (cluster mode
   * only): the replica holding the agent's socket, this one or the one it was forwarded to.
   */
  'request.dispatched': { requestId: string; organizationId: string; kind: string; agentId: string; replicaId?: string };
  /** A request ended exactly once: its result is stored (`code`: the error code of a failure). */
  'request.settled': {
    requestId: string;
    organizationId: string;
    kind: string;
    status: 'succeeded' | 'failed';
    code?: string;
    durationMs: number;
    agentId?: string;
  };
}

/** How the core reports an event; wired to the emitter's `emit` by `createGateway`. */
export type EmitGatewayEvent = <K extends keyof GatewayEvents>(event: K, payload: GatewayEvents[K]) => void;

/**
 * Typed listeners of a gateway: the SDKs' one emitter ({@link TypedEvents} of `@vespid/protocol`),
 * the same `on()`/`off()` as the agent runtime's and the continuation runner's. A listener may be
 * async (a database write); its rejection is logged, like a throw.
 */
export type GatewayEventEmitter = TypedEvents<GatewayEvents>;

/** The gateway's emitter; failed listeners are logged as `gateway event listener failed`. */
export function gatewayEvents(logger: Logger): GatewayEventEmitter {
  return new TypedEvents<GatewayEvents>({ logger, source: 'gateway' });
}
