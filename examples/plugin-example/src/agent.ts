// #region agent
import type { Logger } from '@vespid/protocol';
import { type Agent, connectorActionExecutor, createAgent, httpConnector } from '@vespid/sdk-agent';
import { hashExecutor } from './hash-executor.js';
import { inventoryConnector } from './inventory-connector.js';

/**
 * Options of {@link createPluginAgent}.
 *
 * @example
 * ```ts
 * const options: PluginAgentOptions = { gatewayWsUrl: 'ws://localhost:3002/ws', agentToken, inventoryBaseUrl: 'http://inventory:8080' };
 * ```
 */
export interface PluginAgentOptions {
  gatewayWsUrl: string;
  agentToken: string;
  inventoryBaseUrl: string;
  name?: string;
  logger?: Logger;
}

/**
 * An agent that runs this package's plugins next to the built-in `http` connector: nodes of kind
 * `example.hash` go to {@link hashExecutor}; `connector.action` nodes with `connectorId: 'inventory'`
 * go to {@link inventoryConnector}. Each executor kind is announced in `hello`, so the gateway routes
 * those kinds (and connector ids) to this agent only.
 *
 * @example
 * ```ts
 * const agent = createPluginAgent({ gatewayWsUrl, agentToken, inventoryBaseUrl: 'http://inventory:8080' });
 * await agent.start();
 * // on shutdown:
 * await agent.close({ timeoutMs: 10_000 });
 * ```
 */
export function createPluginAgent(options: PluginAgentOptions): Agent {
  return createAgent({
    gatewayWsUrl: options.gatewayWsUrl,
    agentToken: options.agentToken,
    name: options.name ?? 'plugin-example',
    ...(options.logger ? { logger: options.logger } : {}),
    executors: [
      hashExecutor(),
      connectorActionExecutor({ connectors: [httpConnector(), inventoryConnector({ baseUrl: options.inventoryBaseUrl })] }),
    ],
  });
}
// #endregion agent
