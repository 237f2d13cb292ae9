import { AgentPauseEventSchema, IdSchema, type Logger, TagSchema, TokenRotationEventSchema } from '@vespid/protocol';
import type { Gateway } from '@vespid/sdk-gateway';
import type { Redis } from 'ioredis';

/** Redis channel on which the control plane publishes revocations, tag edits, pauses and rotation requests. */
export const CONTROL_CHANNEL = 'vespid:control';

/** Applies one control event to the gateway; returns what it did, for logs and tests. */
export function applyControlEvent(gateway: Gateway, message: string, logger: Logger): string {
  let event: { type?: unknown; agentId?: unknown; tags?: unknown };
  try {
    event = JSON.parse(message) as typeof event;
  } catch {
    logger.warn({}, 'control event is not JSON: ignored');
    return 'ignored';
  }
  // Rotation events carry ids only; the token is minted here, by the replica holding the session.
  const rotation = TokenRotationEventSchema.safeParse(event);
  if (rotation.success) {
    const r = rotation.data;
    const outcome = gateway.rotateAgentTokens(
      r.type === 'agent_token_rotation_requested' ? { agentId: r.agentId } : { organizationId: r.organizationId },
    );
    logger.info(
      { ...(r.type === 'agent_token_rotation_requested' ? { agentId: r.agentId } : { organizationId: r.organizationId }), ...outcome },
      'token rotation requested by control plane',
    );
    return 'rotating';
  }
  if (!IdSchema.safeParse(event.agentId).success) {
    logger.warn({ type: String(event.type).slice(0, 40) }, 'control event without a valid agentId: ignored');
    return 'ignored';
  }
  const agentId = event.agentId as string;
  if (event.type === 'agent_revoked') {
    const closed = gateway.revokeAgent(agentId);
    logger.info({ agentId, closed }, 'agent revoked by control plane');
    return 'revoked';
  }
  if (event.type === 'agent_tags_updated' && Array.isArray(event.tags) && event.tags.every((t) => TagSchema.safeParse(t).success)) {
    const updated = gateway.updateAgentTags(agentId, event.tags as string[]);
    logger.info({ agentId, tags: event.tags, updated }, 'agent tags updated by control plane');
    return 'retagged';
  }
  const pause = AgentPauseEventSchema.safeParse(event);
  if (pause.success) {
    // Every replica applies it to its own sessions; resuming also offers the org's queue to the agent.
    const paused = pause.data.type === 'agent_paused';
    const changed = gateway.setAgentPaused(agentId, paused);
    logger.info({ agentId, paused, sessions: changed }, paused ? 'agent paused by control plane' : 'agent resumed by control plane');
    return paused ? 'paused' : 'resumed';
  }
  logger.warn({ agentId, type: String(event.type).slice(0, 40) }, 'unknown control event: ignored');
  return 'ignored';
}

/**
 * Subscribes `subscriber` (a dedicated ioredis connection) to `vespid:control` and applies events.
 * Returns an unsubscribe function.
 *
 * @example
 * ```ts
 * const stop = await subscribeControl(redis.duplicate(), gateway, logger);
 * ```
 */
export async function subscribeControl(subscriber: Redis, gateway: Gateway, logger: Logger, channel = CONTROL_CHANNEL) {
  subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel) applyControlEvent(gateway, message, logger);
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.unsubscribe(channel).catch(() => {});
  };
}
