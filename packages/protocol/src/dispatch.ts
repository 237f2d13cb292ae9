import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS, LIMITS } from './constants.js';
import { ErrorInfoSchema, KindSchema, OrganizationIdSchema, RequestIdSchema, SelectorSchema, TimeoutMsSchema } from './primitives.js';

/**
 * Body of `POST /internal/v1/dispatch` and `/dispatch-async` (worker → gateway).
 * `requestId` should be `runId:nodeId:attempt` so a repeated dispatch is idempotent.
 */
export const DispatchRequestSchema = z.strictObject({
  organizationId: OrganizationIdSchema,
  requestId: RequestIdSchema,
  kind: KindSchema,
  payload: z.unknown(),
  secret: z.string().max(LIMITS.secretLength).optional(),
  selector: SelectorSchema.optional(),
  timeoutMs: TimeoutMsSchema.default(DEFAULT_TIMEOUT_MS),
});
/** A parsed dispatch request (defaults applied). */
export type DispatchRequest = z.infer<typeof DispatchRequestSchema>;
/** A dispatch request as a caller writes it (`timeoutMs` optional). */
export type DispatchRequestInput = z.input<typeof DispatchRequestSchema>;

/** The outcome of a request: what `POST /dispatch` returns and what the result store keeps. */
export const ExecutionResultSchema = z.strictObject({
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
});
export type ExecutionResult = z.infer<typeof ExecutionResultSchema>;

/** A stored result with its identity, as kept under `gateway:results:<requestId>`. */
export const StoredResultSchema = z.strictObject({
  requestId: RequestIdSchema,
  organizationId: OrganizationIdSchema,
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
  agentId: z.string().max(LIMITS.idLength).optional(),
  completedAt: z.number().int().nonnegative(),
});
export type StoredResult = z.infer<typeof StoredResultSchema>;

/** `POST /internal/v1/dispatch` 200 body. */
export const DispatchResponseSchema = z.strictObject({
  requestId: RequestIdSchema,
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
});
export type DispatchResponse = z.infer<typeof DispatchResponseSchema>;

/**
 * `POST /internal/v1/dispatch-async` body: 201 `{requestId, dispatched: true}` when sent now;
 * 200 `{requestId, dispatched: false, cached: true}` when a result already exists; 200
 * `{requestId, dispatched: false, inFlight: true}` when the same request is already running.
 */
export const DispatchAsyncResponseSchema = z.strictObject({
  requestId: RequestIdSchema,
  dispatched: z.boolean(),
  cached: z.boolean().optional(),
  inFlight: z.boolean().optional(),
  agentId: z.string().max(LIMITS.idLength).optional(),
});
export type DispatchAsyncResponse = z.infer<typeof DispatchAsyncResponseSchema>;

/** `GET /internal/v1/results/:requestId` 200 body. */
export const ResultResponseSchema = StoredResultSchema;
export type ResultResponse = StoredResult;

/** Every HTTP error body: `{code, message}` (plus optional details). */
export const ErrorBodySchema = ErrorInfoSchema;
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** What the gateway publishes on {@link RESULT_CHANNEL} for every stored result. */
export const ResultPublicationSchema = StoredResultSchema;
export type ResultPublication = StoredResult;
