import type { Logger } from '@vespid/protocol';
import { errText } from './core/err-text.js';

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

/** How the core reports an event; wired to {@link GatewayEventEmitter.emit} by `createGateway`. */
export type EmitGatewayEvent = <K extends keyof GatewayEvents>(event: K, payload: GatewayEvents[K]) => void;

type Listener<K extends keyof GatewayEvents> = (payload: GatewayEvents[K]) => unknown;

/**
 * Typed listeners of a gateway, the same `on()`/`off()` as the agent runtime's. A listener may be
 * async (a database write); its rejection is logged, like a throw.
 */
export class GatewayEventEmitter {
  readonly #listeners = new Map<keyof GatewayEvents, Set<Listener<never>>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<K extends keyof GatewayEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof GatewayEvents>(event: K, listener: Listener<K>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Whether anyone listens: lets the core skip work (the liveness batch) nobody would receive. */
  has(event: keyof GatewayEvents): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  readonly emit: EmitGatewayEvent = (event, payload) => {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        const r = (listener as Listener<typeof event>)(payload);
        if (r && typeof (r as Promise<unknown>).catch === 'function')
          (r as Promise<unknown>).catch((err: unknown) => this.#failed(event, err));
      } catch (err) {
        this.#failed(event, err);
      }
    }
  };

  #failed(event: keyof GatewayEvents, err: unknown): void {
    this.#logger.warn({ event, err: errText(err) }, 'gateway event listener failed');
  }
}
