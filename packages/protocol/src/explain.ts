/**
 * `POST /internal/v1/explain`: why a request would (not) run now, without dispatching it. The answer
 * extends the placement explanation that `NO_AGENT_AVAILABLE` and a queued dispatch carry.
 */
import { z } from 'zod';
import { LIMITS } from './constants.js';
import { PlacementExplanationSchema } from './dispatch.js';
import { KindSchema, OrganizationIdSchema, RequestIdSchema, SelectorSchema } from './primitives.js';

/**
 * Body of `POST /internal/v1/explain`: a dispatch request without the parts that do not route, plus an
 * optional `requestId` whose queue position the answer reports.
 *
 * @example
 * ```ts
 * ExplainRequestSchema.parse({ organizationId: 'org1', kind: 'agent.execute', selector: { group: 'alpha' } });
 * ```
 */
export const ExplainRequestSchema = z.object({
  organizationId: OrganizationIdSchema,
  kind: KindSchema,
  payload: z.unknown().optional(),
  selector: SelectorSchema.optional(),
  requestId: RequestIdSchema.optional(),
});
/** @example `const req: ExplainRequest = { organizationId: 'org1', kind: 'agent.execute' }` */
export type ExplainRequest = z.infer<typeof ExplainRequestSchema>;

/**
 * 200 body of `POST /internal/v1/explain`. Loose: fields a newer gateway adds are kept.
 *
 * @example
 * ```ts
 * const why = ExplainResponseSchema.parse(await res.json());
 * if (!why.selected) console.log(why.message, why.excluded, `queue ${why.queue.depth}`);
 * ```
 */
export const ExplainResponseSchema = PlacementExplanationSchema.extend({
  organizationId: OrganizationIdSchema,
  kind: KindSchema,
  /** `payload.connectorId` of a `connector.action` request. */
  connectorId: z.string().max(LIMITS.idLength).optional(),
  selector: SelectorSchema.optional(),
  /** Agents that passed every filter. */
  eligible: z.number().int().nonnegative(),
  /** The agent the strategy would pick now, or null. */
  selected: z
    .looseObject({
      agentId: z.string().max(LIMITS.idLength),
      sessionId: z.string().max(LIMITS.idLength),
      name: z.string(),
      inFlight: z.number().int().nonnegative(),
      maxInFlight: z.number().int().nonnegative(),
    })
    .nullable(),
  /** The organization's waiting queue; `position` is 1-based for `requestId`, null when it is not waiting. */
  queue: z.looseObject({ depth: z.number().int().nonnegative(), position: z.number().int().positive().nullable() }),
});
/** @example `const why: ExplainResponse = ExplainResponseSchema.parse(body)` */
export type ExplainResponse = z.infer<typeof ExplainResponseSchema>;
