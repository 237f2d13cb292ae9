/**
 * `@vespid/example-api` — the Vespid control-plane API host: orgs, roles, access tokens, pairing
 * tokens and the pairing exchange, agents (online/offline/revoked, revoke, tags), connector secrets
 * (AES-256-GCM envelope), workflows, runs and run events, and the `/agents` web page. Exposes the
 * seams the worker, gateway and demo compose: {@link ControlBus} (`vespid:control`), {@link RunQueue} (`workflow-runs`) and the DSL.
 *
 * @example
 * ```ts
 * import { startApiHost, inProcessControlBus, inProcessRunQueue } from '@vespid/example-api';
 *
 * const api = await startApiHost({ ...process.env, API_PORT: '0' }, {
 *   controlBus: inProcessControlBus(),
 *   runQueue: inProcessRunQueue((job) => worker.process(job)),
 * });
 * console.log(api.url);
 * await api.close();
 * ```
 *
 * @packageDocumentation
 */
export { buildApiApp, type ApiDeps } from './app.js';
export { startApiHost, type ApiHost, type ApiHostOverrides } from './host.js';
export {
  apiConfigFromEnv,
  resolveApiConfig,
  ApiConfigSchema,
  STALE_MS_MIN,
  STALE_MS_MAX,
  PAIRING_TOKEN_TTL_MS,
  type ApiConfig,
  type ApiConfigInput,
  type ApiEnv,
} from './config.js';
export {
  CONTROL_CHANNEL,
  ControlEventSchema,
  redisControlBus,
  inProcessControlBus,
  type ControlBus,
  type ControlEvent,
  type InProcessControlBus,
  type RedisPublisher,
} from './control-bus.js';
export {
  RUN_QUEUE_NAME,
  bullmqRunQueue,
  inProcessRunQueue,
  type RunQueue,
  type RunJob,
  type BullmqRunQueue,
  type BullmqRunQueueOptions,
} from './run-queue.js';
export {
  WorkflowDslSchema,
  WorkflowNodeSchema,
  ConnectorActionConfigSchema,
  AgentExecuteConfigSchema,
  NodeIdSchema,
  NodeAuthSchema,
  type WorkflowDsl,
  type WorkflowNode,
  type ConnectorActionConfig,
  type AgentExecuteConfig,
} from './dsl.js';
export {
  LIVE_SESSIONS_ROUTE,
  gatewayLiveSessions,
  liveSessionsFromEnv,
  mergeLive,
  type LiveSession,
  type LiveSessionSource,
  type LiveStatus,
  type GatewayLiveSessionsOptions,
} from './live-sessions.js';
export { agentsPageRoutes, AGENTS_PAGE_CSP } from './web/page-routes.js';
export { connectCommand, CONNECT_COMMAND_PREFIX } from './web/lib/command.js';
export { bootstrapOrganization, addMember, generateAccessToken, type BootstrapResult } from './users.js';
export {
  inviteMember,
  acceptInvitation,
  generateInvitationToken,
  INVITATION_TTL_MS,
  type Invitation,
  type AcceptedInvitation,
} from './invitations.js';
export { changeMemberRole, mayGrant, MANAGER_ROLES } from './roles.js';
export { createApiLogger, REDACT_PATHS } from './logger.js';
export { ApiError } from './errors.js';
export type { Role } from './auth.js';
