/**
 * `@vespid/example-gateway`: the standalone gateway host, exported as a function so the demo and the
 * end-to-end tests can start it in-process.
 *
 * @example
 * ```ts
 * import { startGatewayHost } from '@vespid/example-gateway';
 * const host = await startGatewayHost({ ...process.env, GATEWAY_PORT: '0' });
 * ```
 */
export { startGatewayHost, type GatewayHost, type GatewayHostOverrides } from './host.js';
export { gatewayHostConfigFromEnv, GatewayConfigError, type GatewayClusterConfig, type GatewayHostConfig } from './config.js';
export { createGatewayLogger, REDACT_PATHS } from './logger.js';
export { createGatewayMetrics } from './metrics.js';
export { postgresAgents } from './pg-agents.js';
export {
  applyControlEvent,
  applyParsedControlEvent,
  subscribeControl,
  CONTROL_CHANNEL,
  type ControlOutcome,
  type ControlTarget,
} from './control-channel.js';
