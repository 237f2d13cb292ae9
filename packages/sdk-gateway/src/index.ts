/**
 * `@vespid/sdk-gateway` — the embeddable gateway router that Vespid node-agents reach over WebSocket:
 * authentication before upgrade, sessions with heartbeats, tag/kind/connector-aware selection,
 * idempotent dispatch with timeouts, and result storage. Framework-free core with thin adapters for
 * node:http, Express and Fastify. Redis result store and cluster mode at `@vespid/sdk-gateway/redis`,
 * the cluster contract (for cluster implementers) at `@vespid/sdk-gateway/cluster`, conformance suites
 * and fakes at `@vespid/sdk-gateway/testing`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createGateway, gatewayOptionsFromEnv } from '@vespid/sdk-gateway';
 *
 * const env = gatewayOptionsFromEnv(process.env);
 * const gateway = createGateway({ ...env, authenticator });
 * gateway.on('agent.connected', ({ agentId }) => logger.info({ agentId }, 'agent connected'));
 * await gateway.start();
 * const server = createServer(gateway.httpHandler);
 * gateway.attach(server, { path: '/ws' });
 * server.listen(env.port, env.host);
 * ```
 *
 * @packageDocumentation
 */
export { createGateway, type Gateway } from './gateway.js';
export type { TracingOption } from './tracing.js';
export type { DispatchAsyncOutcome, GatewayState, QueueInfo, SessionInfo } from './gateway-types.js';
export type { AgentHelloInfo, AgentSeen, GatewayEvents } from './gateway-events.js';
export type { GatewayOptions } from './options.js';
export { gatewayOptionsFromEnv, type GatewayEnvConfig } from './env.js';
export {
  staticAuthenticator,
  type AgentAuthenticator,
  type AuthenticatedAgent,
  type AuthResult,
  type StaticAgentEntry,
  type TokenRotator,
} from './authenticator.js';
export {
  leastInFlightLru,
  type LeastInFlightLruOptions,
  roundRobin,
  type SelectionStrategy,
  type SelectionCandidate,
  type SelectionName,
} from './selection/strategy.js';
export {
  memoryResultStore,
  type ResultStore,
  type DispatchRecord,
  type StoreClaim,
  type StoreLookup,
  type MemoryResultStoreOptions,
} from './results/result-store.js';
export { noopMetrics, type GatewayMetrics } from './metrics.js';
export { GatewayError } from './errors.js';
export type { AgentConnection, ConnectionHandle } from './core/connection.js';
export type { Explanation, RoutingRequest } from './selection/candidates.js';
export type { RotationOutcome } from './core/token-rotation.js';
export type { InternalRequest, InternalResponse } from './adapters/http-adapter.js';
export { PACKAGE_VERSION } from './version.js';
