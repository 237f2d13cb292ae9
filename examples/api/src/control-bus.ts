/**
 * The control bus carries control-plane changes the gateways must apply at once: a revoked agent's
 * session is closed, new tags route without a reconnect. The api publishes; every gateway replica
 * subscribes to the Redis channel {@link CONTROL_CHANNEL}.
 */
import { CONTROL_CHANNEL, type ControlEvent, ControlEventSchema, type Logger, noopLogger } from '@vespid/protocol';

// The event union and the channel are the protocol's (one contract for the api and every gateway).
export { CONTROL_CHANNEL, ControlEventSchema, type ControlEvent };

/**
 * Publishes control events to every gateway.
 *
 * @example
 * ```ts
 * await bus.publish({ type: 'agent_revoked', agentId });
 * ```
 */
export interface ControlBus {
  publish(event: ControlEvent): Promise<void>;
}

/** The minimal Redis client surface used (ioredis fits). @example `redisControlBus(new Redis(url))` */
export interface RedisPublisher {
  publish(channel: string, message: string): Promise<number>;
}

/**
 * A {@link ControlBus} publishing JSON on Redis channel `vespid:control`.
 *
 * @example
 * ```ts
 * const bus = redisControlBus(new Redis(process.env.REDIS_URL));
 * ```
 */
export function redisControlBus(redis: RedisPublisher, options: { channel?: string } = {}): ControlBus {
  const channel = options.channel ?? CONTROL_CHANNEL;
  return {
    async publish(event) {
      await redis.publish(channel, JSON.stringify(ControlEventSchema.parse(event)));
    },
  };
}

/** An in-process {@link ControlBus} that listeners can subscribe to. @example `const off = bus.subscribe(apply)` */
export interface InProcessControlBus extends ControlBus {
  /** Registers a listener; returns an unsubscribe function. */
  subscribe(listener: (event: ControlEvent) => void | Promise<void>): () => void;
}

/**
 * An in-process {@link ControlBus} for a single-process setup without Redis (the demo): the gateway
 * embedded in the same process subscribes directly. A failing listener is logged, never thrown back.
 *
 * @example
 * ```ts
 * const bus = inProcessControlBus();
 * bus.subscribe((e) => { if (e.type === 'agent_revoked') gateway.revokeAgent(e.agentId); });
 * ```
 */
export function inProcessControlBus(options: { logger?: Logger } = {}): InProcessControlBus {
  const logger = options.logger ?? noopLogger;
  const listeners = new Set<(event: ControlEvent) => void | Promise<void>>();
  return {
    async publish(event) {
      const parsed = ControlEventSchema.parse(event);
      for (const listener of [...listeners]) {
        try {
          await listener(parsed);
        } catch (err) {
          logger.error({ err, type: parsed.type, ...('agentId' in parsed ? { agentId: parsed.agentId } : {}) }, 'control listener failed');
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
