/**
 * Regression (found by the chaos fuzz of WS frames): a protocol violation whose reason is longer than
 * the 123 bytes a WebSocket close frame allows (e.g. a zod message naming a long bad value) made
 * `ws.close()` throw; the gateway then dropped the TCP connection and the agent saw 1006 with no code
 * instead of 4400. The reason must be cut to fit, and the code must always reach the agent.
 */
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/index.js';

const ORG = '11111111-2222-4333-8444-555555555555';
let t: TestGateway | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

it.each([
  ['an unknown type with a long name', { type: `no_such_type_${'x'.repeat(400)}` }],
  ['a long unicode type', { type: '🦀'.repeat(100) }],
  ['a result with many invalid fields', { type: 'execute_result', requestId: 'r:n:0', status: 'x'.repeat(200), error: [1, 2, 3] }],
])('closes with 4400 and a fitting reason for %s', async (_name, frame) => {
  t = await startTestGateway();
  const a = await t.agent({ agentId: 'fuzzed', organizationId: ORG, tags: [] });
  a.send(frame);
  const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
    a.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  expect(closed.code).toBe(4400);
  expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
});
