import { z } from 'zod';
import { LIMITS, PROTOCOL_VERSION } from './constants.js';
import {
  ConnectorIdSchema,
  ErrorInfoSchema,
  IdSchema,
  KindSchema,
  OrganizationIdSchema,
  RequestIdSchema,
  TagSchema,
  TimeoutMsSchema,
} from './primitives.js';
import { TraceContextSchema } from './trace-context.js';

/**
 * What an agent can do, declared in `hello`. Tags here are hints; routing uses control-plane tags.
 *
 * @example
 * ```ts
 * CapabilitiesSchema.parse({ kinds: ['connector.action'], connectors: ['http'], maxInFlight: 4 });
 * ```
 */
export const CapabilitiesSchema = z.strictObject({
  kinds: z.array(KindSchema).min(1).max(LIMITS.kindsPerAgent),
  connectors: z.array(ConnectorIdSchema).max(LIMITS.connectorsPerAgent).optional(),
  tags: z.array(TagSchema).max(LIMITS.tagsPerAgent).optional(),
  maxInFlight: z.number().int().min(1).max(LIMITS.maxInFlight).optional(),
  /**
   * Optional protocol features this agent understands beyond v1's base frames (added in v1 without a
   * bump), from {@link AGENT_FEATURES}: `rotate_token`, `trace`. A gateway sends a feature's frames or
   * frame fields only to agents that list it (an older agent's strict schemas would reject them), so an
   * older agent simply never receives them. Unknown names are ignored by the gateway.
   */
  features: z
    .array(z.string().regex(/^[a-z][a-z0-9_.-]{0,31}$/))
    .max(32)
    .optional(),
});
/**
 * @example
 * ```ts
 * const capabilities: Capabilities = { kinds: ['agent.execute'], tags: ['east'] };
 * ```
 */
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

const timestamp = z.number().finite().nonnegative();

// ---- agent → gateway -------------------------------------------------------------------------

/**
 * What an agent reports about the machine it runs on, in `hello.host` (display only; never used for
 * routing or trust).
 *
 * @example
 * ```ts
 * HostInfoSchema.parse({ os: 'linux', arch: 'x64', hostname: 'edge-1', nodeVersion: '20.20.0' });
 * ```
 */
export const HostInfoSchema = z.strictObject({
  /** `process.platform`: linux, darwin, win32, … */
  os: z.string().min(1).max(32),
  /** `process.arch`: x64, arm64, … */
  arch: z.string().min(1).max(32),
  hostname: z.string().min(1).max(255),
  /** Node.js version without the leading `v`. */
  nodeVersion: z.string().min(1).max(32),
});
/**
 * @example
 * ```ts
 * const host: HostInfo = { os: 'linux', arch: 'x64', hostname: 'edge-1', nodeVersion: '20.20.0' };
 * ```
 */
export type HostInfo = z.infer<typeof HostInfoSchema>;

/**
 * First frame of every session.
 *
 * @example
 * ```ts
 * HelloSchema.parse({ type: 'hello', protocol: 1, agentVersion: '0.1.0', name: 'edge-1', capabilities });
 * ```
 */
export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  agentVersion: z.string().min(1).max(64),
  name: z.string().min(1).max(LIMITS.nameLength),
  capabilities: CapabilitiesSchema,
  /** Optional (added in v1 without a bump): where the agent runs, for the fleet view. */
  host: HostInfoSchema.optional(),
});
/**
 * Application-level heartbeat.
 *
 * @example
 * ```ts
 * ws.send(encodeMessage(PingSchema.parse({ type: 'ping', ts: Date.now() })));
 * ```
 */
export const PingSchema = z.strictObject({ type: z.literal('ping'), ts: timestamp });
/**
 * The agent accepted an `execute`: from now on it resends the result after a reconnect. With the
 * `receipt_in_result` feature agreed in `hello`/`hello_ack`, an agent may leave it out when the
 * `execute_result` follows within the same loop turn: the gateway takes a result as its receipt.
 *
 * @example
 * ```ts
 * ws.send(encodeMessage({ type: 'execute_received', requestId }));
 * ```
 */
export const ExecuteReceivedSchema = z.strictObject({ type: z.literal('execute_received'), requestId: RequestIdSchema });
/**
 * The outcome of an `execute`. Resent on every reconnect until acked.
 *
 * @example
 * ```ts
 * ExecuteResultSchema.parse({ type: 'execute_result', requestId, status: 'succeeded', output: { n: 1 } });
 * ```
 */
export const ExecuteResultSchema = z.strictObject({
  type: z.literal('execute_result'),
  requestId: RequestIdSchema,
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
});

/**
 * The agent saved the token of a `rotate_token` (config file written, used for its next connect), or
 * could not (`error` set: it keeps its old token). Sent only in answer to `rotate_token`.
 *
 * @example
 * ```ts
 * ws.send(encodeMessage({ type: 'rotate_token_ack', rotationId }));
 * ```
 */
export const RotateTokenAckSchema = z.strictObject({
  type: z.literal('rotate_token_ack'),
  rotationId: IdSchema,
  error: ErrorInfoSchema.optional(),
});

/**
 * Every frame an agent may send.
 *
 * @example
 * ```ts
 * const r = AgentMessageSchema.safeParse(JSON.parse(text));
 * ```
 */
export const AgentMessageSchema = z.discriminatedUnion('type', [
  HelloSchema,
  PingSchema,
  ExecuteReceivedSchema,
  ExecuteResultSchema,
  RotateTokenAckSchema,
]);
/**
 * @example
 * ```ts
 * function onAgentMessage(m: AgentMessage) { if (m.type === 'ping') pong(m.ts); }
 * ```
 */
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
/**
 * @example
 * ```ts
 * const hello: Hello = { type: 'hello', protocol: 1, agentVersion: '0.1.0', name: 'edge-1', capabilities: { kinds: ['agent.execute'] } };
 * ```
 */
export type Hello = z.infer<typeof HelloSchema>;
/**
 * @example
 * ```ts
 * const ping: Ping = { type: 'ping', ts: Date.now() };
 * ```
 */
export type Ping = z.infer<typeof PingSchema>;
/**
 * @example
 * ```ts
 * const received: ExecuteReceived = { type: 'execute_received', requestId };
 * ```
 */
export type ExecuteReceived = z.infer<typeof ExecuteReceivedSchema>;
/**
 * @example
 * ```ts
 * const result: ExecuteResultMessage = { type: 'execute_result', requestId, status: 'failed', error: { code: 'TASK_CANCELLED', message: 'cancelled' } };
 * ```
 */
export type ExecuteResultMessage = z.infer<typeof ExecuteResultSchema>;

// ---- gateway → agent -------------------------------------------------------------------------

/**
 * Answer to `hello`: who the gateway thinks the agent is, and how often to ping.
 *
 * @example
 * ```ts
 * const ack = HelloAckSchema.parse(message); setInterval(ping, ack.heartbeatMs);
 * ```
 */
export const HelloAckSchema = z.strictObject({
  type: z.literal('hello_ack'),
  sessionId: IdSchema,
  agentId: IdSchema,
  organizationId: OrganizationIdSchema,
  heartbeatMs: z.number().int().min(100).max(600_000),
  /**
   * The optional features of the agent's `hello.capabilities.features` this gateway also implements
   * (only those, so an older agent, which announces none, never sees the field).
   */
  features: z
    .array(z.string().regex(/^[a-z][a-z0-9_.-]{0,31}$/))
    .max(32)
    .optional(),
});
/**
 * Answer to `ping`, echoing its timestamp.
 *
 * @example
 * ```ts
 * PongSchema.parse({ type: 'pong', ts });
 * ```
 */
export const PongSchema = z.strictObject({ type: z.literal('pong'), ts: timestamp });
/**
 * Run a task. `secret` is in memory for this request only and must never be logged.
 *
 * @example
 * ```ts
 * const execute = ExecuteSchema.parse(message); // requestId, kind, payload, timeoutMs, secret?
 * ```
 */
export const ExecuteSchema = z.strictObject({
  type: z.literal('execute'),
  requestId: RequestIdSchema,
  organizationId: OrganizationIdSchema,
  kind: KindSchema,
  payload: z.unknown(),
  secret: z.string().max(LIMITS.secretLength).optional(),
  timeoutMs: TimeoutMsSchema,
  /** W3C trace context of the gateway's send span; only to agents that announced the `trace` feature. */
  trace: TraceContextSchema.optional(),
});
/**
 * The gateway stored the result durably; the agent may forget it.
 *
 * @example
 * ```ts
 * ws.send(encodeMessage({ type: 'execute_ack', requestId })); // the agent may forget the result now
 * ```
 */
export const ExecuteAckSchema = z.strictObject({ type: z.literal('execute_ack'), requestId: RequestIdSchema });
/**
 * Stop a running task.
 *
 * @example
 * ```ts
 * const cancel = CancelSchema.parse(message); tasks.get(cancel.requestId)?.abort();
 * ```
 */
export const CancelSchema = z.strictObject({
  type: z.literal('cancel'),
  requestId: RequestIdSchema,
  reason: z.string().max(LIMITS.reasonLength),
});
/**
 * The gateway is going away: finish what runs, expect close 1001, reconnect elsewhere.
 *
 * @example
 * ```ts
 * ws.send(encodeMessage({ type: 'drain', reason: 'gateway shutting down' }));
 * ```
 */
export const DrainSchema = z.strictObject({ type: z.literal('drain'), reason: z.string().max(LIMITS.reasonLength) });

/**
 * A new agent token from the control plane (in-band rotation). Sent only to agents whose `hello`
 * listed the `rotate_token` feature. The agent stores it durably, uses it for every later connect and
 * answers `rotate_token_ack`; the old token stays valid for the control plane's overlap window.
 * `token` is a secret: never logged (see {@link redactFrame}).
 *
 * @example
 * ```ts
 * const rotate = RotateTokenSchema.parse(message); await save(rotate.token); ack(rotate.rotationId);
 * ```
 */
export const RotateTokenSchema = z.strictObject({
  type: z.literal('rotate_token'),
  /** Echoed in `rotate_token_ack`. */
  rotationId: IdSchema,
  token: z.string().min(1).max(1024),
  /** Epoch ms after which the new token is refused; absent = it does not expire. */
  expiresAt: z.number().int().nonnegative().optional(),
});

/**
 * Every frame a gateway may send.
 *
 * @example
 * ```ts
 * const r = GatewayMessageSchema.safeParse(JSON.parse(text));
 * ```
 */
export const GatewayMessageSchema = z.discriminatedUnion('type', [
  HelloAckSchema,
  PongSchema,
  ExecuteSchema,
  ExecuteAckSchema,
  CancelSchema,
  DrainSchema,
  RotateTokenSchema,
]);
/**
 * @example
 * ```ts
 * function onGatewayMessage(m: GatewayMessage) { if (m.type === 'execute') run(m); }
 * ```
 */
export type GatewayMessage = z.infer<typeof GatewayMessageSchema>;
/**
 * @example
 * ```ts
 * const ack: HelloAck = HelloAckSchema.parse(message);
 * ```
 */
export type HelloAck = z.infer<typeof HelloAckSchema>;
/**
 * @example
 * ```ts
 * const pong: Pong = { type: 'pong', ts: ping.ts };
 * ```
 */
export type Pong = z.infer<typeof PongSchema>;
/**
 * @example
 * ```ts
 * function run(task: Execute) { return executor.execute(task, ctx); }
 * ```
 */
export type Execute = z.infer<typeof ExecuteSchema>;
/**
 * @example
 * ```ts
 * const ack: ExecuteAck = { type: 'execute_ack', requestId };
 * ```
 */
export type ExecuteAck = z.infer<typeof ExecuteAckSchema>;
/**
 * @example
 * ```ts
 * const cancel: Cancel = CancelSchema.parse(message);
 * ```
 */
export type Cancel = z.infer<typeof CancelSchema>;
/**
 * @example
 * ```ts
 * const drain: Drain = { type: 'drain', reason: 'shutdown' };
 * ```
 */
export type Drain = z.infer<typeof DrainSchema>;
/**
 * @example
 * ```ts
 * const rotate: RotateToken = RotateTokenSchema.parse(message);
 * ```
 */
export type RotateToken = z.infer<typeof RotateTokenSchema>;
/**
 * @example
 * ```ts
 * const ack: RotateTokenAck = { type: 'rotate_token_ack', rotationId };
 * ```
 */
export type RotateTokenAck = z.infer<typeof RotateTokenAckSchema>;

/**
 * Names an agent may list in `hello.capabilities.features`.
 *
 * @example
 * ```ts
 * const supports = hello.capabilities.features?.includes(AGENT_FEATURES.rotateToken) ?? false;
 * ```
 */
export const AGENT_FEATURES = Object.freeze({
  /** The agent handles `rotate_token` (stores the new token) and answers `rotate_token_ack`. */
  rotateToken: 'rotate_token',
  /** The agent reads `execute.trace` (W3C trace context) and continues the trace. */
  trace: 'trace',
  /**
   * Both sides take an `execute_result` as the request's receipt: a gateway that echoes it in
   * `hello_ack.features` lets the agent skip `execute_received` for a task whose result is sent in the
   * same loop turn (one frame instead of two). Without the echo (an older gateway) the agent always
   * confirms first.
   */
  receiptInResult: 'receipt_in_result',
} as const);

/**
 * A copy of a frame safe to log: the token of `rotate_token` and the `secret` of `execute` are
 * replaced by `[redacted]`. Use it wherever frames are logged or traced.
 *
 * @example
 * ```ts
 * logger.debug({ frame: redactFrame(message) }, 'frame sent');
 * ```
 */
export function redactFrame<T extends AgentMessage | GatewayMessage>(message: T): T {
  if (message.type === 'rotate_token') return { ...message, token: '[redacted]' };
  if (message.type === 'execute' && message.secret !== undefined) return { ...message, secret: '[redacted]' };
  return message;
}
