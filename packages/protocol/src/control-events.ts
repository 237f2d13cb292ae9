/**
 * The control events a control plane publishes to every gateway replica (Redis pub/sub in the example
 * hosts): one discriminated union, so the publisher validates what it sends and each replica parses
 * what it receives against the same schema. Events carry ids and tags only, never a token.
 */
import { z } from 'zod';
import { AgentPauseEventSchema } from './fleet.js';
import { IdSchema, TagSchema } from './primitives.js';
import { TokenRotationEventSchema } from './token-rotation.js';

/**
 * Default Redis pub/sub channel of control events (a stack's `VESPID_REDIS_PREFIX` prefixes it).
 *
 * @example
 * ```ts
 * await subscriber.subscribe(CONTROL_CHANNEL); // 'vespid:control'
 * ```
 */
export const CONTROL_CHANNEL = 'vespid:control';

/**
 * An agent was revoked: every replica closes its session (4403) at once.
 *
 * @example
 * ```ts
 * await bus.publish(AgentRevokedEventSchema.parse({ type: 'agent_revoked', agentId }));
 * ```
 */
export const AgentRevokedEventSchema = z.object({ type: z.literal('agent_revoked'), agentId: IdSchema });

/**
 * An agent's control-plane tags changed: every replica routes by the new tags without a reconnect.
 *
 * @example
 * ```ts
 * await bus.publish(AgentTagsUpdatedEventSchema.parse({ type: 'agent_tags_updated', agentId, tags: ['gpu'] }));
 * ```
 */
export const AgentTagsUpdatedEventSchema = z.object({
  type: z.literal('agent_tags_updated'),
  agentId: IdSchema,
  tags: z.array(TagSchema),
});

/**
 * Every control event: `agent_revoked`, `agent_tags_updated`, `agent_paused` / `agent_resumed`
 * ({@link AgentPauseEventSchema}) and the rotation requests `agent_token_rotation_requested` /
 * `org_agent_tokens_rotation_requested` ({@link TokenRotationEventSchema}). Unknown fields are dropped,
 * so an older replica still applies an event a newer control plane extended.
 *
 * @example
 * ```ts
 * const parsed = ControlEventSchema.safeParse(JSON.parse(message));
 * if (parsed.success && parsed.data.type === 'agent_revoked') gateway.revokeAgent(parsed.data.agentId);
 * ```
 */
export const ControlEventSchema = z.discriminatedUnion('type', [
  AgentRevokedEventSchema,
  AgentTagsUpdatedEventSchema,
  ...AgentPauseEventSchema.options,
  ...TokenRotationEventSchema.options,
]);
/** @example `const e: ControlEvent = { type: 'agent_tags_updated', agentId, tags: ['east'] }` */
export type ControlEvent = z.infer<typeof ControlEventSchema>;
/** @example `const t: ControlEventType = 'agent_paused'` */
export type ControlEventType = ControlEvent['type'];
