/**
 * `@vespid/example-plugin` — an example Vespid agent plugin package: a custom `Executor` for
 * nodes of kind `example.hash` and a custom connector `inventory` for `connector.action` nodes, each
 * tested with the executor conformance suite from `@vespid/sdk-agent/testing`.
 *
 * @example
 * ```ts
 * import { hashExecutor, inventoryConnector } from '@vespid/example-plugin';
 * import { connectorActionExecutor, createAgent } from '@vespid/sdk-agent';
 *
 * createAgent({
 *   gatewayWsUrl, agentToken, name: 'edge-1',
 *   executors: [hashExecutor(), connectorActionExecutor({ connectors: [inventoryConnector({ baseUrl })] })],
 * });
 * ```
 *
 * @packageDocumentation
 */
export { hashExecutor, type HashExecutorOptions } from './hash-executor.js';
export { inventoryConnector, type InventoryConnectorOptions } from './inventory-connector.js';
export { createPluginAgent, type PluginAgentOptions } from './agent.js';
