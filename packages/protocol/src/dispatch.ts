import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS, LIMITS, MAX_TIMEOUT_MS } from './constants.js';
import {
  ConnectorIdSchema,
  ErrorInfoSchema,
  KindSchema,
  OrganizationIdSchema,
  RequestIdSchema,
  SelectorSchema,
  TimeoutMsSchema,
} from './primitives.js';
import { TraceContextSchema } from './trace-context.js';

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
    /**
     * How long the request may wait in the gateway's queue for an eligible agent. Absent or 0: no wait,
     * `503 NO_AGENT_AVAILABLE` at once. The execution timeout (`timeoutMs`) starts when an agent is assigned.
     */
    queueTimeoutMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
    /** W3C trace context of the caller's dispatch span (sent by a tracing client); the gateway's spans continue it. */
    trace: TraceContextSchema.optional(),
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
  /** The name of the agent that ran it (for run views and events). */
  agentName: z.string().max(LIMITS.nameLength).optional(),
  /** Epoch ms when an agent was assigned (execution started); queue time ends here. */
  assignedAt: z.number().int().nonnegative().optional(),
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
 * const response: DispatchResponse = await client.dispatch(request); // waits for the result
 * ```
 */
export type DispatchResponse = z.infer<typeof DispatchResponseSchema>;

/**
 * Why a request has no agent (yet): the placement explanation carried by a queued answer, by the
 * `NO_AGENT_AVAILABLE` error details and by `POST /internal/v1/explain`. Extra fields are kept.
 *
 * @example
 * ```ts
 * const why = PlacementExplanationSchema.parse(answer.explanation); // why.excluded.capacity
 * ```
 */
export const PlacementExplanationSchema = z.looseObject({
  /** One human line naming the filters and how many agents each excluded. */
  message: z.string().max(LIMITS.errorMessageLength),
  /** Ready agents of the organization. */
  connected: z.number().int().nonnegative(),
  /** Agents excluded by each filter (each counted once, at the first filter it failed). */
  excluded: z.strictObject({
    kind: z.number().int().nonnegative(),
    connector: z.number().int().nonnegative(),
    selector: z.number().int().nonnegative(),
    capacity: z.number().int().nonnegative(),
    /** Agents paused (cordoned) by an operator: connected, given no new work. Absent from older gateways. */
    paused: z.number().int().nonnegative().optional(),
  }),
});
/**
 * @example
 * ```ts
 * const why: PlacementExplanation = { message: 'no agent available …', connected: 0, excluded: { kind: 0, connector: 0, selector: 0, capacity: 0 } };
 * ```
 */
export type PlacementExplanation = z.infer<typeof PlacementExplanationSchema>;

/**
 * `POST /internal/v1/dispatch-async` body: 201 `{requestId, dispatched: true, agentId, agentName?}` when sent now;
 * 200 `{requestId, dispatched: false, cached: true}` when a result already exists; 200
 * `{requestId, dispatched: false, inFlight: true, agentId?, agentName?}` when the same request is already running;
 * 202 `{requestId, dispatched: false, queued: true, position, explanation}` when the request carries
 * `queueTimeoutMs`, no agent is eligible now and it waits in the gateway's queue (a repeat of the same
 * requestId while it waits answers 202 again and is never queued twice). `position` is 1-based within
 * the organization's queue.
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
  /** The agent the gateway chose (a dispatched or in-flight answer, when known). */
  agentId: z.string().max(LIMITS.idLength).optional(),
  /** That agent's name, when the answering replica holds its session. */
  agentName: z.string().max(LIMITS.nameLength).optional(),
  queued: z.boolean().optional(),
  position: z.number().int().positive().optional(),
  explanation: PlacementExplanationSchema.optional(),
});
/**
 * @example
 * ```ts
 * const accepted: DispatchAsyncResponse = await client.dispatchAsync(request);
 * ```
 */
export type DispatchAsyncResponse = z.infer<typeof DispatchAsyncResponseSchema>;

/**
 * Body of `POST /internal/v1/cancel`: withdraws a request that is still waiting in the gateway's
 * queue. Answer 200 `{requestId, cancelled}`; `cancelled: false` when it is not queued (already sent to
 * an agent, finished, or unknown).
 *
 * @example
 * ```ts
 * CancelRequestSchema.parse({ organizationId: 'acme', requestId: 'run1:fetch:0' });
 * ```
 */
export const CancelRequestSchema = z.strictObject({
  organizationId: OrganizationIdSchema,
  requestId: RequestIdSchema,
});
/**
 * @example
 * ```ts
 * const body: CancelRequest = { organizationId: 'acme', requestId: 'run1:fetch:0' };
 * ```
 */
export type CancelRequest = z.infer<typeof CancelRequestSchema>;
/**
 * `POST /internal/v1/cancel` 200 body.
 *
 * @example
 * ```ts
 * const { cancelled } = CancelResponseSchema.parse(await res.json());
 * ```
 */
export const CancelResponseSchema = z.strictObject({ requestId: RequestIdSchema, cancelled: z.boolean() });
/**
 * @example
 * ```ts
 * const answer: CancelResponse = { requestId: 'run1:fetch:0', cancelled: true };
 * ```
 */
export type CancelResponse = z.infer<typeof CancelResponseSchema>;

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
