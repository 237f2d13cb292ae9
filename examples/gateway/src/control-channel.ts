import {
  CONTROL_CHANNEL,
  type ControlEvent,
  ControlEventSchema,
  type Logger,
  formatZodIssues,
  noopLogger,
  parseJsonSafe,
} from '@vespid/protocol';
import type { Gateway } from '@vespid/sdk-gateway';
import type { Cluster, Redis } from 'ioredis';

/** Redis channel on which the control plane publishes revocations, tag edits, pauses and rotation requests. */
export { CONTROL_CHANNEL };

/** What applying a control event did, for logs and tests. */
export type ControlOutcome = 'revoked' | 'retagged' | 'paused' | 'resumed' | 'rotating' | 'ignored';

/** The gateway methods control events drive (a {@link Gateway} fits). */
export type ControlTarget = Pick<Gateway, 'revokeAgent' | 'updateAgentTags' | 'setAgentPaused' | 'rotateAgentTokens'>;

/**
 * Applies one parsed control event to the gateway. The switch is exhaustive: a new event type in
 * the protocol's `ControlEventSchema` fails to compile here until it is handled.
 *
 * @example
 * ```ts
 * bus.subscribe((event) => applyParsedControlEvent(gateway, event, logger));
 * ```
 */
export function applyParsedControlEvent(gateway: ControlTarget, event: ControlEvent, logger: Logger = noopLogger): ControlOutcome {
  switch (event.type) {
    case 'agent_revoked': {
      const closed = gateway.revokeAgent(event.agentId);
      logger.info({ agentId: event.agentId, closed }, 'agent revoked by control plane');
      return 'revoked';
    }
    case 'agent_tags_updated': {
      const updated = gateway.updateAgentTags(event.agentId, event.tags);
      logger.info({ agentId: event.agentId, tags: event.tags, updated }, 'agent tags updated by control plane');
      return 'retagged';
    }
    case 'agent_paused':
    case 'agent_resumed': {
      // Every replica applies it to its own sessions; resuming also offers the org's queue to the agent.
      const paused = event.type === 'agent_paused';
      const changed = gateway.setAgentPaused(event.agentId, paused);
      logger.info(
        { agentId: event.agentId, paused, sessions: changed },
        paused ? 'agent paused by control plane' : 'agent resumed by control plane',
      );
      return paused ? 'paused' : 'resumed';
    }
    // Rotation events carry ids only; the token is minted here, by the replica holding the session.
    case 'agent_token_rotation_requested': {
      const outcome = gateway.rotateAgentTokens({ agentId: event.agentId });
      logger.info({ agentId: event.agentId, ...outcome }, 'token rotation requested by control plane');
      return 'rotating';
    }
    case 'org_agent_tokens_rotation_requested': {
      const outcome = gateway.rotateAgentTokens({ organizationId: event.organizationId });
      logger.info({ organizationId: event.organizationId, ...outcome }, 'token rotation requested by control plane');
      return 'rotating';
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * Parses one control message (JSON text from the channel) and applies it. A message that is not JSON
 * or not a control event of the protocol is logged (type and failing fields only) and ignored.
 *
 * @example
 * ```ts
 * applyControlEvent(gateway, '{"type":"agent_revoked","agentId":"a1"}', logger); // 'revoked'
 * ```
 */
export function applyControlEvent(gateway: ControlTarget, message: string, logger: Logger): ControlOutcome {
  let raw: unknown;
  try {
    raw = parseJsonSafe(message);
  } catch {
    logger.warn({}, 'control event is not JSON: ignored');
    return 'ignored';
  }
  const parsed = ControlEventSchema.safeParse(raw);
  if (!parsed.success) {
    const type = (raw as { type?: unknown } | null)?.type;
    logger.warn(
      { type: typeof type === 'string' ? type.slice(0, 40) : undefined, fields: formatZodIssues(parsed.error, { show: 'paths' }) },
      'unknown or invalid control event: ignored',
    );
    return 'ignored';
  }
  return applyParsedControlEvent(gateway, parsed.data, logger);
}

/**
 * Subscribes `subscriber` (a dedicated ioredis connection, or a `Cluster` client: a classic channel
 * reaches every node of a Redis Cluster) to `vespid:control` and applies events.
 * Returns an unsubscribe function.
 *
 * @example
 * ```ts
 * const stop = await subscribeControl(redis.duplicate(), gateway, logger);
 * ```
 */
export async function subscribeControl(subscriber: Redis | Cluster, gateway: Gateway, logger: Logger, channel = CONTROL_CHANNEL) {
  subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel) applyControlEvent(gateway, message, logger);
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.unsubscribe(channel).catch(() => {});
  };
}
