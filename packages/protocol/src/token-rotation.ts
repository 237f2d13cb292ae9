/**
 * Token-rotation contracts between the control plane and gateways. The control events carry ids only:
 * the new token is minted by the gateway replica that holds the agent's session and travels only on
 * that agent's own WebSocket (`rotate_token`), never through Redis or an HTTP body.
 */
import { z } from 'zod';
import { IdSchema, OrganizationIdSchema } from './primitives.js';

/**
 * Default of `AGENT_TOKEN_ROTATION_OVERLAP_MS`: how long an agent's old token keeps working after a
 * rotation was requested (24 h), so an agent that is offline during the rotation can still connect
 * and be rotated.
 *
 * @example
 * ```ts
 * const overlapMs = Number(env.AGENT_TOKEN_ROTATION_OVERLAP_MS ?? DEFAULT_TOKEN_ROTATION_OVERLAP_MS);
 * ```
 */
export const DEFAULT_TOKEN_ROTATION_OVERLAP_MS = 24 * 60 * 60_000;

/**
 * The control event asking every gateway replica to rotate the token of one agent
 * (`agent_token_rotation_requested`) or of every agent of an organization
 * (`org_agent_tokens_rotation_requested`, incident response). The replica holding a session mints
 * the token; an agent without a session is rotated when it next connects. Part of the
 * `ControlEventSchema` union (unknown fields are dropped, for rolling upgrades).
 *
 * @example
 * ```ts
 * const e = TokenRotationEventSchema.parse({ type: 'agent_token_rotation_requested', agentId });
 * ```
 */
export const TokenRotationEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('agent_token_rotation_requested'), agentId: IdSchema }),
  z.object({ type: z.literal('org_agent_tokens_rotation_requested'), organizationId: OrganizationIdSchema }),
]);
/** @example `const e: TokenRotationEvent = { type: 'org_agent_tokens_rotation_requested', organizationId }` */
export type TokenRotationEvent = z.infer<typeof TokenRotationEventSchema>;

/**
 * Answer of the rotate endpoints (`POST /v1/orgs/:orgId/agents/:agentId/rotate-token`,
 * `POST /v1/orgs/:orgId/agents/rotate-tokens`, `POST /v1/agents/rotate-token`). No token in it.
 *
 * @example
 * ```ts
 * const { agents } = RotateTokensResponseSchema.parse(await res.json());
 * ```
 */
export const RotateTokensResponseSchema = z.object({
  agents: z.array(
    z.object({
      agentId: IdSchema,
      /** ISO time after which the agent's current token is refused (401 `AGENT_TOKEN_EXPIRED`). */
      oldTokenValidUntil: z.string(),
    }),
  ),
  /** Whether the request reached the gateways at once (else: rotated on the agents' next connect). */
  propagated: z.boolean(),
});
/** @example `const r: RotateTokensResponse = { agents: [], propagated: true }` */
export type RotateTokensResponse = z.infer<typeof RotateTokensResponseSchema>;
