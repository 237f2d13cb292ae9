/**
 * `@vespid/sdk-dispatch/testing` — tools for hosts and plugin authors: the `CursorStore`
 * conformance suite (needs vitest) and a fake gateway speaking the dispatch HTTP API.
 *
 * @example
 * ```ts
 * import { cursorStoreConformance } from '@vespid/sdk-dispatch/testing';
 * cursorStoreConformance('my store', async () => ({ store, writeEffect, countEffects }));
 * ```
 *
 * @packageDocumentation
 */
export { cursorStoreConformance, type CursorStoreHarness } from './cursor-store-conformance.js';
export {
  createFakeDispatchGateway,
  type FakeDispatchGateway,
  type FakeDispatchGatewayOptions,
  createFakeGateway,
  type FakeGateway,
  type FakeGatewayOptions,
} from './fake-gateway.js';
