/**
 * Regression (found by the chaos suite, SIGTERM of a node-agent under load): an agent that stops
 * sends its close frame; until the TCP close completes, the gateway still held the session as ready and
 * "sent" new execute frames into the closing socket (ws drops them silently). Those requests were lost
 * until their deadline. A socket that is no longer OPEN must refuse the frame, so the dispatch fails at
 * once with AGENT_DISCONNECTED (retryable) instead of being parked on an agent that is gone.
 */
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/index.js';

const ORG = '11111111-2222-4333-8444-555555555555';
let t: TestGateway | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

it('does not dispatch into a socket whose close handshake has started', async () => {
  t = await startTestGateway();
  const a = await t.agent({ agentId: 'leaving', organizationId: ORG, tags: [] });
  // The agent starts its close handshake, then stops reading: the gateway has its close frame but the
  // TCP connection stays up, as with an agent process that is exiting.
  a.ws.close(1000, 'agent stopping');
  (a.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  await new Promise((r) => setTimeout(r, 100));
  const req = {
    organizationId: ORG,
    requestId: 'r-closing:n:0',
    kind: 'connector.action',
    payload: { connectorId: 'http' },
    timeoutMs: 60_000,
  };
  const outcome = await t.gateway.dispatchAsync(req).then(
    (r) => ({ dispatched: r.dispatched, code: undefined as string | undefined }),
    (err: { code?: string }) => ({ dispatched: false, code: err.code }),
  );
  expect(outcome).toEqual({ dispatched: false, code: 'AGENT_DISCONNECTED' });
  (a.ws as unknown as { _socket: { destroy(): void } })._socket.destroy();
});
