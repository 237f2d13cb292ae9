/**
 * `@vespid/sdk-agent` — the Vespid node-agent runtime: connect to a gateway, run tasks through
 * executor plugins, deliver results reliably; plus the `connector.action` executor with `http` and
 * `github` connectors, the pairing client and the agent config file. The Docker sandbox executor lives
 * in `@vespid/sdk-agent/docker`, conformance suites and test helpers in `@vespid/sdk-agent/testing`.
 *
 * @example
 * ```ts
 * import { createAgent, connectorActionExecutor, httpConnector, readAgentConfig, defaultAgentConfigPath } from '@vespid/sdk-agent';
 *
 * const config = await readAgentConfig(defaultAgentConfigPath(process.env));
 * const agent = createAgent({
 *   gatewayWsUrl: config.gatewayWsUrl,
 *   agentToken: config.agentToken,
 *   name: config.name,
 *   tags: config.tags,
 *   executors: [connectorActionExecutor({ connectors: [httpConnector()] })],
 * });
 * await agent.start();
 * ```
 *
 * @packageDocumentation
 */
export type { Executor, ExecutorContext, ExecutorResult, ExecutorTask } from './executor.js';
export { createAgent, type Agent, type AgentEvents, type AgentState, type AgentStopInfo } from './agent.js';
export { agentOptionsFromEnv, expandHome, type AgentOptions, type PersistToken } from './agent-options.js';
export { saveTokenToConfigFile } from './token-rotation.js';
export type { TracingOption } from './tracing.js';
export { AgentError, AgentAuthError, toErrorInfo } from './errors.js';
export { connectorActionExecutor, sandboxNotConfiguredExecutor, type ConnectorActionExecutorOptions } from './connector-executor.js';
export {
  createConnectorRegistry,
  defineAction,
  defineConnector,
  type Connector,
  type ConnectorAction,
  type ConnectorActionContext,
  type ConnectorRegistry,
} from './connectors/registry.js';
export { httpConnector, type HttpConnectorOptions } from './connectors/http.js';
export { githubConnector, type GithubConnectorOptions } from './connectors/github.js';
export { pairAgent, type PairAgentOptions, type PairAgentResult } from './pairing.js';
export { deregisterAgent, requestTokenRotation, type DeregisterAgentOptions } from './pairing.js';
export { defaultAgentConfigPath, readAgentConfig, writeAgentConfig, type AgentConfig } from './config-file.js';
export {
  createDestinationPolicy,
  parseAllowlist,
  type DestinationPolicy,
  type DestinationPolicyOptions,
} from './destination-policy.js';
export { redactSecret } from './redact.js';
export { AGENT_VERSION } from './version.js';
