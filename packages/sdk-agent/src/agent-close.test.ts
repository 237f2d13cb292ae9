import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Agent, createAgent } from './agent.js';
import type { Executor } from './executor.js';
import { type FakeAgentGateway, createFakeAgentGateway } from './testing/index.js';

const TOKEN = `org-close.tok_${'c'.repeat(24)}`;

describe('agent.close() and executor shutdown', () => {
  let gw: FakeAgentGateway | undefined;
  let agent: Agent | undefined;

  afterEach(async () => {
    await agent?.close({ timeoutMs: 500 });
    await gw?.close();
    agent = gw = undefined;
  });

  it('resolves only after every executor has closed (e.g. its containers are gone)', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    let finishClose: () => void = () => {};
    let closeCalled = false;
    const slowToClose: Executor = {
      kind: 'slow-close',
      execute: async () => ({ status: 'succeeded' }),
      close: () => {
        closeCalled = true;
        return new Promise<void>((resolve) => {
          finishClose = resolve;
        });
      },
    };
    agent = createAgent({ gatewayWsUrl: gw.url, agentToken: TOKEN, name: 'closing', executors: [slowToClose] });
    const session = gw.nextSession();
    await agent.start();
    await session;

    let closed = false;
    const closing = agent.close({ timeoutMs: 1_000 }).then(() => {
      closed = true;
    });
    await vi.waitFor(() => expect(closeCalled).toBe(true));
    await agent.done;
    // Stopped, but the executor is still shutting down: close() must not have resolved yet.
    expect(closed).toBe(false);
    finishClose();
    await closing;
    expect(closed).toBe(true);
    // A repeated close() waits for the same release, not a fresh Promise.resolve().
    await expect(agent.close()).resolves.toBeUndefined();
  });
});
