/**
 * `@vespid/protocol` — the wire contract of the Vespid remote execution stack (protocol v1):
 * zod schemas and inferred types for every gateway ⇄ agent frame, the dispatch HTTP API, the result
 * shape, the error-code catalogue, close codes and agent-token helpers. Depends on zod only, so agents
 * in other languages can be written against the same definitions.
 *
 * @example
 * ```ts
 * import { parseAgentMessage, CloseCode, encodeMessage } from '@vespid/protocol';
 *
 * ws.on('message', (data) => {
 *   const frame = parseAgentMessage(data);
 *   if (!frame.ok) return ws.close(frame.error.closeCode, frame.error.reason);
 *   if (frame.message.type === 'ping') ws.send(encodeMessage({ type: 'pong', ts: frame.message.ts }));
 * });
 * ```
 *
 * @packageDocumentation
 */
export {
  PROTOCOL_VERSION,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  RESULT_KEY_PREFIX,
  RESULT_CHANNEL,
  ROUTES,
  LIMITS,
} from './constants.js';
export { CloseCode, FATAL_CLOSE_CODES, closeCodeName } from './close-codes.js';
export {
  TraceContextSchema,
  isValidTraceparent,
  formatTraceparent,
  parseTraceparent,
  type TraceContext,
  type TraceIds,
} from './trace-context.js';
export {
  ERROR_CODES,
  ErrorCodes,
  errorCodeInfo,
  isRetryableCode,
  isErrorCode,
  dockerExitCode,
  actionNotSupported,
  type ErrorCodeInfo,
  type ErrorCode,
  type StaticErrorCode,
} from './error-codes.js';
export { VespidError, type VespidErrorOptions } from './vespid-error.js';
export {
  formatZodIssues,
  zodIssueSummaries,
  type FormatZodIssuesOptions,
  type ZodIssueLike,
  type ZodIssueSummary,
} from './zod-issues.js';
export {
  IdSchema,
  OrganizationIdSchema,
  RequestIdSchema,
  KindSchema,
  TagSchema,
  ConnectorIdSchema,
  TimeoutMsSchema,
  ErrorCodeSchema,
  ErrorInfoSchema,
  SelectorSchema,
  type ErrorInfo,
  type Selector,
} from './primitives.js';
export {
  CapabilitiesSchema,
  HelloSchema,
  HostInfoSchema,
  PingSchema,
  ExecuteReceivedSchema,
  ExecuteResultSchema,
  AgentMessageSchema,
  HelloAckSchema,
  PongSchema,
  ExecuteSchema,
  ExecuteAckSchema,
  CancelSchema,
  DrainSchema,
  GatewayMessageSchema,
  type Capabilities,
  type AgentMessage,
  type Hello,
  type HostInfo,
  type Ping,
  type ExecuteReceived,
  type ExecuteResultMessage,
  type GatewayMessage,
  type HelloAck,
  type Pong,
  type Execute,
  type ExecuteAck,
  type Cancel,
  type Drain,
  RotateTokenSchema,
  RotateTokenAckSchema,
  type RotateToken,
  type RotateTokenAck,
  AGENT_FEATURES,
  redactFrame,
} from './messages.js';
export {
  DEFAULT_TOKEN_ROTATION_OVERLAP_MS,
  TokenRotationEventSchema,
  RotateTokensResponseSchema,
  type TokenRotationEvent,
  type RotateTokensResponse,
} from './token-rotation.js';
export {
  DispatchRequestSchema,
  ExecutionResultSchema,
  StoredResultSchema,
  DispatchResponseSchema,
  DispatchAsyncResponseSchema,
  PlacementExplanationSchema,
  CancelRequestSchema,
  CancelResponseSchema,
  ResultResponseSchema,
  ErrorBodySchema,
  ResultPublicationSchema,
  type DispatchRequest,
  type DispatchRequestInput,
  type ExecutionResult,
  type StoredResult,
  type DispatchResponse,
  type DispatchAsyncResponse,
  type PlacementExplanation,
  type CancelRequest,
  type CancelResponse,
  type ResultResponse,
  type ErrorBody,
  type ResultPublication,
} from './dispatch.js';
export {
  ChannelIdSchema,
  ChannelRequestFrameSchema,
  ChannelCancelFrameSchema,
  ChannelClientFrameSchema,
  ChannelReadySchema,
  ChannelResultSchema,
  ChannelAcceptedSchema,
  ChannelErrorSchema,
  ChannelDrainSchema,
  ChannelServerFrameSchema,
  type ChannelRequestFrame,
  type ChannelClientFrame,
  type ChannelServerFrame,
} from './dispatch-channel.js';
export {
  CONTROL_CHANNEL,
  AgentRevokedEventSchema,
  AgentTagsUpdatedEventSchema,
  ControlEventSchema,
  type ControlEvent,
  type ControlEventType,
} from './control-events.js';
export {
  ExplainRequestSchema,
  ExplainResponseSchema,
  type ExplainRequest,
  type ExplainResponse,
} from './explain.js';
export {
  AgentPauseEventSchema,
  LiveRequestSchema,
  LiveSessionSchema,
  LiveSessionsResponseSchema,
  type LiveSessionsResponse,
  type AgentPauseEvent,
  type LiveRequest,
  type LiveSessionInfo,
} from './fleet.js';
export {
  ExecutionConfigSchema,
  ConnectorActionPayloadSchema,
  ShellTaskSchema,
  SandboxConfigSchema,
  AgentExecutePayloadSchema,
  BuiltinKinds,
  type ExecutionConfig,
  type ConnectorActionPayload,
  type ShellTask,
  type SandboxConfig,
  type AgentExecutePayload,
} from './payloads.js';
export {
  generateToken,
  parseToken,
  hashToken,
  tokensEqual,
  verifyTokenHash,
  bearerToken,
  redactToken,
  type ParsedToken,
} from './tokens.js';
export {
  parseAgentMessage,
  parseGatewayMessage,
  parseJsonSafe,
  encodeMessage,
  type FrameError,
  type FrameResult,
} from './frames.js';
export type { KnownFields } from './known-fields.js';
export { noopLogger, childLogger, type Logger } from './logger.js';
export { TypedEvents, type TypedEventsOptions, type EventListener } from './typed-events.js';
