/**
 * Test helpers for `@vespid/sdk-gateway`: conformance suites that plugin authors run against their
 * own `SelectionStrategy` / `ResultStore`, and a fake agent connection for unit tests of the core.
 *
 * @example
 * ```ts
 * import { selectionStrategyConformance, resultStoreConformance } from '@vespid/sdk-gateway/testing';
 * selectionStrategyConformance('my strategy', () => myStrategy());
 * resultStoreConformance('my store', async () => ({ store: myStore(), cleanup: async () => {} }));
 * ```
 *
 * @packageDocumentation
 */
export { fakeAgent, type FakeAgent } from './fake-connection.js';
export { selectionStrategyConformance } from './selection-conformance.js';
export { resultStoreConformance, type ResultStoreFixture } from './result-store-conformance.js';
export { connectTestAgent, type TestAgent, type TestAgentOptions } from './ws-test-agent.js';
export { startTestGateway, type TestGateway } from './test-gateway.js';
