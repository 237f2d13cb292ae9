import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS, LIMITS } from './constants.js';
import {
  ConnectorIdSchema,
  ErrorInfoSchema,
  KindSchema,
  OrganizationIdSchema,
  RequestIdSchema,
  SelectorSchema,
  TimeoutMsSchema,
} from './primitives.js';

/**
 * Body of `POST /internal/v1/dispatch` and `/dispatch-async` (worker → gateway).
 * `requestId` should be `runId:nodeId:attempt` so a repeated dispatch is idempotent.
 *
 * @example
 * ```ts
 * const request = DispatchRequestSchema.parse(await readJson(req)); // timeoutMs defaults to 60000
 * ```
 */
export const DispatchRequestSchema = z
  .strictObject({
    organizationId: OrganizationIdSchema,
    requestId: RequestIdSchema,
    kind: KindSchema,
    payload: z.unknown(),
    secret: z.string().max(LIMITS.secretLength).optional(),
    selector: SelectorSchema.optional(),
    timeoutMs: TimeoutMsSchema.default(DEFAULT_TIMEOUT_MS),
  })
  .superRefine((request, ctx) => {
    // The gateway routes a connector.action by payload.connectorId; without one the request reached any
    // agent and failed there. Only the routing key is checked: the rest of the payload is the executor's.
    if (request.kind !== 'connector.action') return;
    const connectorId = (request.payload as { connectorId?: unknown } | null | undefined)?.connectorId;
    const parsed = ConnectorIdSchema.safeParse(connectorId);
    if (!parsed.success) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload', 'connectorId'],
        message: connectorId === undefined ? 'connector.action needs payload.connectorId' : (parsed.error.issues[0]?.message ?? 'invalid'),
      });
    }
  });
/**
 * A parsed dispatch request (defaults applied).
 *
 * @example
 * ```ts
 * function route(request: DispatchRequest) { return request.timeoutMs; }
 * ```
 */
export type DispatchRequest = z.infer<typeof DispatchRequestSchema>;
/**
 * A dispatch request as a caller writes it (`timeoutMs` optional).
 *
 * @example
 * ```ts
 * const input: DispatchRequestInput = { organizationId: 'acme', requestId: 'run1:fetch:0', kind: 'connector.action', payload };
 * ```
 */
export type DispatchRequestInput = z.input<typeof DispatchRequestSchema>;

/**
 * The outcome of a request: what `POST /dispatch` returns and what the result store keeps.
 *
 * @example
 * ```ts
 * ExecutionResultSchema.parse({ status: 'succeeded', output: { rows: 3 } });
 * ```
 */
export const ExecutionResultSchema = z.strictObject({
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
});
/**
 * @example
 * ```ts
 * const result: ExecutionResult = { status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT', message: 'timed out' } };
 * ```
 */
export type ExecutionResult = z.infer<typeof ExecutionResultSchema>;

/**
 * A stored result with its identity, as kept under `gateway:results:<requestId>`.
 *
 * @example
 * ```ts
 * const stored = StoredResultSchema.parse(JSON.parse(await redis.get(key)));
 * ```
 */
export const StoredResultSchema = z.strictObject({
  requestId: RequestIdSchema,
  organizationId: OrganizationIdSchema,
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
  agentId: z.string().max(LIMITS.idLength).optional(),
  completedAt: z.number().int().nonnegative(),
});
/**
 * @example
 * ```ts
 * const stored: StoredResult | null = await gateway.getResult('run1:fetch:0');
 * ```
 */
export type StoredResult = z.infer<typeof StoredResultSchema>;

/**
 * `POST /internal/v1/dispatch` 200 body.
 *
 * @example
 * ```ts
 * const response = DispatchResponseSchema.parse(await res.json());
 * ```
 */
export const DispatchResponseSchema = z.strictObject({
  requestId: RequestIdSchema,
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
});
/**
 * @example
 * ```ts
 * const response: DispatchResponse = await client.dispatchAndWait(request);
 * ```
 */
export type DispatchResponse = z.infer<typeof DispatchResponseSchema>;

/**
 * `POST /internal/v1/dispatch-async` body: 201 `{requestId, dispatched: true}` when sent now;
 * 200 `{requestId, dispatched: false, cached: true}` when a result already exists; 200
 * `{requestId, dispatched: false, inFlight: true}` when the same request is already running.
 *
 * @example
 * ```ts
 * const accepted = DispatchAsyncResponseSchema.parse(await res.json());
 * ```
 */
export const DispatchAsyncResponseSchema = z.strictObject({
  requestId: RequestIdSchema,
  dispatched: z.boolean(),
  cached: z.boolean().optional(),
  inFlight: z.boolean().optional(),
  agentId: z.string().max(LIMITS.idLength).optional(),
});
/**
 * @example
 * ```ts
 * const accepted: DispatchAsyncResponse = await client.dispatch(request);
 * ```
 */
export type DispatchAsyncResponse = z.infer<typeof DispatchAsyncResponseSchema>;

/**
 * `GET /internal/v1/results/:requestId` 200 body.
 *
 * @example
 * ```ts
 * const result = ResultResponseSchema.parse(await res.json()); // GET /internal/v1/results/:requestId
 * ```
 */
export const ResultResponseSchema = StoredResultSchema;
/**
 * @example
 * ```ts
 * const result: ResultResponse | null = await client.getResult(requestId);
 * ```
 */
export type ResultResponse = StoredResult;

/**
 * Every HTTP error body: `{code, message}` (plus optional details).
 *
 * @example
 * ```ts
 * const body = ErrorBodySchema.parse(await res.json()); // { code, message }
 * ```
 */
export const ErrorBodySchema = ErrorInfoSchema;
/**
 * @example
 * ```ts
 * const body: ErrorBody = { code: 'NO_AGENT_AVAILABLE', message: 'no agent available for org acme' };
 * ```
 */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * What the gateway publishes on {@link RESULT_CHANNEL} for every stored result.
 *
 * @example
 * ```ts
 * subscriber.on('message', (_channel, text) => onResult(ResultPublicationSchema.parse(JSON.parse(text))));
 * ```
 */
export const ResultPublicationSchema = StoredResultSchema;
/**
 * @example
 * ```ts
 * function onResult(result: ResultPublication) { return runner.deliver(result); }
 * ```
 */
export type ResultPublication = StoredResult;
