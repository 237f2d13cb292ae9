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

/** What an agent can do, declared in `hello`. Tags here are hints; routing uses control-plane tags. */
export const CapabilitiesSchema = z.strictObject({
  kinds: z.array(KindSchema).min(1).max(LIMITS.kindsPerAgent),
  connectors: z.array(ConnectorIdSchema).max(LIMITS.connectorsPerAgent).optional(),
  tags: z.array(TagSchema).max(LIMITS.tagsPerAgent).optional(),
  maxInFlight: z.number().int().min(1).max(LIMITS.maxInFlight).optional(),
});
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

const timestamp = z.number().finite().nonnegative();

// ---- agent → gateway -------------------------------------------------------------------------

/** First frame of every session. */
export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  agentVersion: z.string().min(1).max(64),
  name: z.string().min(1).max(LIMITS.nameLength),
  capabilities: CapabilitiesSchema,
});
/** Application-level heartbeat. */
export const PingSchema = z.strictObject({ type: z.literal('ping'), ts: timestamp });
/** The agent accepted an `execute`. */
export const ExecuteReceivedSchema = z.strictObject({ type: z.literal('execute_received'), requestId: RequestIdSchema });
/** The outcome of an `execute`. Resent on every reconnect until acked. */
export const ExecuteResultSchema = z.strictObject({
  type: z.literal('execute_result'),
  requestId: RequestIdSchema,
  status: z.enum(['succeeded', 'failed']),
  output: z.unknown().optional(),
  error: ErrorInfoSchema.optional(),
});

/** Every frame an agent may send. */
export const AgentMessageSchema = z.discriminatedUnion('type', [HelloSchema, PingSchema, ExecuteReceivedSchema, ExecuteResultSchema]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type Hello = z.infer<typeof HelloSchema>;
export type Ping = z.infer<typeof PingSchema>;
export type ExecuteReceived = z.infer<typeof ExecuteReceivedSchema>;
export type ExecuteResultMessage = z.infer<typeof ExecuteResultSchema>;

// ---- gateway → agent -------------------------------------------------------------------------

/** Answer to `hello`: who the gateway thinks the agent is, and how often to ping. */
export const HelloAckSchema = z.strictObject({
  type: z.literal('hello_ack'),
  sessionId: IdSchema,
  agentId: IdSchema,
  organizationId: OrganizationIdSchema,
  heartbeatMs: z.number().int().min(100).max(600_000),
});
/** Answer to `ping`, echoing its timestamp. */
export const PongSchema = z.strictObject({ type: z.literal('pong'), ts: timestamp });
/** Run a task. `secret` is in memory for this request only and must never be logged. */
export const ExecuteSchema = z.strictObject({
  type: z.literal('execute'),
  requestId: RequestIdSchema,
  organizationId: OrganizationIdSchema,
  kind: KindSchema,
  payload: z.unknown(),
  secret: z.string().max(LIMITS.secretLength).optional(),
  timeoutMs: TimeoutMsSchema,
});
/** The gateway stored the result durably; the agent may forget it. */
export const ExecuteAckSchema = z.strictObject({ type: z.literal('execute_ack'), requestId: RequestIdSchema });
/** Stop a running task. */
export const CancelSchema = z.strictObject({
  type: z.literal('cancel'),
  requestId: RequestIdSchema,
  reason: z.string().max(LIMITS.reasonLength),
});
/** The gateway is going away: finish what runs, expect close 1001, reconnect elsewhere. */
export const DrainSchema = z.strictObject({ type: z.literal('drain'), reason: z.string().max(LIMITS.reasonLength) });

/** Every frame a gateway may send. */
export const GatewayMessageSchema = z.discriminatedUnion('type', [
  HelloAckSchema,
  PongSchema,
  ExecuteSchema,
  ExecuteAckSchema,
  CancelSchema,
  DrainSchema,
]);
export type GatewayMessage = z.infer<typeof GatewayMessageSchema>;
export type HelloAck = z.infer<typeof HelloAckSchema>;
export type Pong = z.infer<typeof PongSchema>;
export type Execute = z.infer<typeof ExecuteSchema>;
export type ExecuteAck = z.infer<typeof ExecuteAckSchema>;
export type Cancel = z.infer<typeof CancelSchema>;
export type Drain = z.infer<typeof DrainSchema>;
