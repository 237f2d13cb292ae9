/**
 * The internal dispatch channel (worker → gateway): one persistent WebSocket at `ROUTES.channel`,
 * authenticated with the service token at upgrade, that carries the bodies of `POST /internal/v1/dispatch`
 * and `/dispatch-async` as frames and their answers back, matched by a correlation id the client picks.
 * It is an optimisation of the HTTP routes with the same semantics (same validation, error codes,
 * request-id idempotency, queued waiting): the routes stay the documented API and the fallback.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from './constants.js';
import { DispatchAsyncResponseSchema, type DispatchRequestInput, DispatchResponseSchema, ErrorBodySchema } from './dispatch.js';

/**
 * A correlation id chosen by the client, unique among its requests in flight on one channel.
 *
 * @example
 * ```ts
 * ChannelIdSchema.parse('17');
 * ```
 */
export const ChannelIdSchema = z.string().min(1).max(64);

// ---- client → gateway ------------------------------------------------------------------------

/**
 * `dispatch` (like `POST /internal/v1/dispatch`, waits for the result) or `dispatch_async` (like
 * `POST /internal/v1/dispatch-async`). `request` is the route's body; the gateway validates it with
 * `DispatchRequestSchema` exactly as the route does, so an invalid one is answered with an `error`
 * frame (`400 BAD_REQUEST`) and the channel stays open.
 *
 * @example
 * ```ts
 * ws.send(JSON.stringify({ type: 'dispatch', id: '1', request: { organizationId, requestId, kind, payload } }));
 * ```
 */
export const ChannelRequestFrameSchema = z.strictObject({
  type: z.enum(['dispatch', 'dispatch_async']),
  id: ChannelIdSchema,
  request: z.unknown(),
});
/**
 * A request frame as a sender writes it (the request typed as the HTTP body).
 *
 * @example
 * ```ts
 * const frame: ChannelRequestFrame = { type: 'dispatch_async', id: '2', request };
 * ```
 */
export type ChannelRequestFrame = Omit<z.infer<typeof ChannelRequestFrameSchema>, 'request'> & { request: DispatchRequestInput };

/**
 * The caller stopped waiting for request `id` (its signal aborted): what closing an HTTP request does.
 * A synchronous dispatch still waiting in the gateway's queue leaves it; no answer follows.
 *
 * @example
 * ```ts
 * ws.send(JSON.stringify({ type: 'cancel', id: '1' }));
 * ```
 */
export const ChannelCancelFrameSchema = z.strictObject({ type: z.literal('cancel'), id: ChannelIdSchema });

/**
 * Every client → gateway channel frame.
 *
 * @example
 * ```ts
 * const frame = ChannelClientFrameSchema.safeParse(JSON.parse(text));
 * ```
 */
export const ChannelClientFrameSchema = z.discriminatedUnion('type', [ChannelRequestFrameSchema, ChannelCancelFrameSchema]);
/**
 * @example
 * ```ts
 * function receive(frame: ChannelClientFrame) { return frame.type === 'cancel' ? abort(frame.id) : run(frame); }
 * ```
 */
export type ChannelClientFrame = z.infer<typeof ChannelClientFrameSchema>;

// ---- gateway → client ------------------------------------------------------------------------

/**
 * First frame on a new channel: the protocol version and how many requests the gateway accepts in
 * flight on it (more are answered `429 RATE_LIMITED`).
 *
 * @example
 * ```ts
 * ChannelReadySchema.parse({ type: 'ready', protocol: 1, maxInFlight: 1024 });
 * ```
 */
export const ChannelReadySchema = z.strictObject({
  type: z.literal('ready'),
  protocol: z.literal(PROTOCOL_VERSION),
  maxInFlight: z.number().int().positive(),
});

/**
 * The answer to a `dispatch` frame: the 200 body of `POST /internal/v1/dispatch`.
 *
 * @example
 * ```ts
 * { type: 'result', id: '1', body: { requestId, status: 'succeeded', output } }
 * ```
 */
export const ChannelResultSchema = z.strictObject({ type: z.literal('result'), id: ChannelIdSchema, body: DispatchResponseSchema });

/**
 * The answer to a `dispatch_async` frame: the route's status (201 sent, 200 cached or in flight, 202
 * queued) and body.
 *
 * @example
 * ```ts
 * { type: 'accepted', id: '2', status: 201, body: { requestId, dispatched: true, agentId } }
 * ```
 */
export const ChannelAcceptedSchema = z.strictObject({
  type: z.literal('accepted'),
  id: ChannelIdSchema,
  status: z.union([z.literal(200), z.literal(201), z.literal(202)]),
  body: DispatchAsyncResponseSchema,
});

/**
 * A request answered with an error: the HTTP status and `{code, message}` body the route would have
 * answered (`400 BAD_REQUEST`, `503 NO_AGENT_AVAILABLE`, `503 GATEWAY_SHUTDOWN`, `429 RATE_LIMITED`
 * over the channel's in-flight bound, …).
 *
 * @example
 * ```ts
 * { type: 'error', id: '3', status: 503, body: { code: 'NO_AGENT_AVAILABLE', message: '…' } }
 * ```
 */
export const ChannelErrorSchema = z.strictObject({
  type: z.literal('error'),
  id: ChannelIdSchema,
  status: z.number().int().min(400).max(599),
  body: ErrorBodySchema,
});

/**
 * The gateway is shutting down: send new requests elsewhere (the HTTP routes, or a new channel once
 * this one has closed). Requests already in flight are still answered before the close (1001).
 *
 * @example
 * ```ts
 * { type: 'drain', reason: 'gateway shutting down' }
 * ```
 */
export const ChannelDrainSchema = z.strictObject({ type: z.literal('drain'), reason: z.string().max(1024) });

/**
 * Every gateway → client channel frame.
 *
 * @example
 * ```ts
 * const frame = ChannelServerFrameSchema.parse(JSON.parse(text));
 * ```
 */
export const ChannelServerFrameSchema = z.discriminatedUnion('type', [
  ChannelReadySchema,
  ChannelResultSchema,
  ChannelAcceptedSchema,
  ChannelErrorSchema,
  ChannelDrainSchema,
]);
/**
 * @example
 * ```ts
 * const frame: ChannelServerFrame = { type: 'drain', reason: 'gateway shutting down' };
 * ```
 */
export type ChannelServerFrame = z.infer<typeof ChannelServerFrameSchema>;
