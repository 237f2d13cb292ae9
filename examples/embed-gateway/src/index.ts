/**
 * `@vespid/example-embed` — integrator examples, each tested: the gateway embedded in node:http,
 * Express and Fastify; an `AgentAuthenticator` over your own Postgres table; a custom
 * `SelectionStrategy`; and `@vespid/sdk-dispatch` driving your own workflow engine.
 *
 * @example
 * ```ts
 * import { startFastifyApp, preferTag } from '@vespid/example-embed';
 * const host = await startFastifyApp({ authenticator, serviceToken, selection: preferTag('zone:primary') });
 * ```
 *
 * @packageDocumentation
 */
export type { EmbedOptions, EmbeddedGateway } from './types.js';
export { startNodeHttpGateway } from './node-http.js';
export { startExpressApp } from './express.js';
export { startFastifyApp } from './fastify.js';
export { myAgentsTable } from './db-authenticator.js';
export { preferTag } from './zone-selection.js';
export { createTinyEngine, type RemoteStep, type RunRecord } from './workflow-engine.js';
