/** The demo's building blocks, reused by the end-to-end tests. */
export { startStack, type Stack, type StackOptions } from './stack.js';
export { spawnAgent, type AgentProcess } from './agent-process.js';
export { ApiClient } from './api-client.js';
export { bootstrap, runWorkflow, sampleWorkflow, formatEvent, waitFor, type DemoEvent } from './demo-flow.js';
export { startSampleService, type SampleService } from './sample-service.js';
export { startEmbeddedPostgres, type EmbeddedDb } from './embedded-postgres.js';
export { dockerAvailable, ensureSandboxImages } from './docker-check.js';
