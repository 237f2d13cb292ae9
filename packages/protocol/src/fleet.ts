/**
 * Fleet contracts between the control plane and gateways: the pause (cordon) control event and the
 * live session list of `GET /internal/v1/sessions` (what an agent is doing right now).
 */
import { z } from 'zod';
import { LIMITS } from './constants.js';
import type { KnownFields } from './known-fields.js';
import { IdSchema, RequestIdSchema } from './primitives.js';

/**
 * The control event that pauses or resumes an agent on every gateway replica (published by the
 * control plane on its control channel beside revocations and tag edits). A paused agent keeps its
 * connection and finishes what it runs; it is not selected for new work until resumed. Part of the
 * `ControlEventSchema` union (unknown fields are dropped, for rolling upgrades).
 *
 * @example
 * ```ts
 * const event = AgentPauseEventSchema.parse({ type: 'agent_paused', agentId });
 * if (event.type === 'agent_paused') gateway.setAgentPaused(event.agentId, true);
 * ```
 */
export const AgentPauseEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('agent_paused'), agentId: IdSchema }),
  z.object({ type: z.literal('agent_resumed'), agentId: IdSchema }),
]);
/** @example `const e: AgentPauseEvent = { type: 'agent_resumed', agentId }` */
export type AgentPauseEvent = z.infer<typeof AgentPauseEventSchema>;

/**
 * One request a session is running (or was sent and not yet answered). For requests dispatched by
 * the example worker the id is `runId:nodeId:attempt`.
 *
 * @example
 * ```ts
 * const [runId, nodeId] = LiveRequestSchema.parse(r).requestId.split(':');
 * ```
 */
export const LiveRequestSchema = z.looseObject({
  requestId: RequestIdSchema,
  kind: z.string().max(LIMITS.idLength),
  /** Epoch ms when the request was assigned to this agent. */
  startedAt: z.number().int().nonnegative(),
  /** The agent confirmed it (`execute_received`). */
  received: z.boolean(),
});
/** @example `const r: LiveRequest = { requestId: 'run:n1:0', kind: 'agent.execute', startedAt: Date.now(), received: true }` */
export type LiveRequest = z.infer<typeof LiveRequestSchema>;

/**
 * One session in the answer of `GET /internal/v1/sessions?organizationId=`. Loose: extra fields are
 * kept, and fields added after v1 (`paused`, `agentVersion`, `requests`, `remoteAddress`) are optional
 * so an older gateway still parses.
 *
 * @example
 * ```ts
 * const { sessions } = LiveSessionsResponseSchema.parse(await res.json());
 * ```
 */
export const LiveSessionSchema = z.looseObject({
  agentId: z.string().max(LIMITS.idLength),
  sessionId: z.string().max(LIMITS.idLength),
  /** The organization asked for (the route lists one organization). */
  organizationId: z.string().max(LIMITS.idLength).optional(),
  name: z.string().optional(),
  /** Session state (`ready` once the agent's `hello` was accepted); a string so newer states still parse. */
  state: z.string().max(64).optional(),
  /** Control-plane tags the gateway routes by. */
  tags: z.array(z.string()).optional(),
  inFlight: z.number().int().nonnegative(),
  maxInFlight: z.number().int().nonnegative(),
  kinds: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? []),
  // null: the agent did not declare a connector list.
  connectors: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? null),
  reportedTags: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? []),
  connectedAt: z.union([z.string(), z.number()]).optional(),
  lastSeenAt: z.union([z.string(), z.number()]).optional(),
  /** The version the agent sent in `hello`. */
  agentVersion: z.string().max(64).optional(),
  /** Paused (cordoned): connected, given no new work. */
  paused: z.boolean().optional(),
  /** The peer address the gateway saw (proxy-dependent). */
  remoteAddress: z.string().max(256).nullish(),
  /** Requests sent to this session and not yet answered. */
  requests: z.array(LiveRequestSchema).max(10_000).optional(),
});
/** @example `const s: LiveSessionInfo = LiveSessionSchema.parse(raw)` */
export type LiveSessionInfo = z.infer<typeof LiveSessionSchema>;

/** Body of `GET /internal/v1/sessions`. @example `LiveSessionsResponseSchema.parse(body).sessions` */
export const LiveSessionsResponseSchema = z.object({ sessions: z.array(LiveSessionSchema).max(100_000) });
/**
 * What a gateway sends on `GET /internal/v1/sessions` (the schema's input: before the defaults a
 * reader fills in). Producers type their answer with it.
 *
 * @example
 * ```ts
 * const body: LiveSessionsResponse = { sessions: gateway.listSessions().filter((s) => s.organizationId === org) };
 * ```
 */
export type LiveSessionsResponse = KnownFields<z.input<typeof LiveSessionsResponseSchema>>;
