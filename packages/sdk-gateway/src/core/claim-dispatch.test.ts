import { afterEach, describe, expect, it } from 'vitest';
import { staticAuthenticator } from '../authenticator.js';
import { type Gateway, createGateway } from '../gateway.js';
import { type DispatchRecord, type ResultStore, type StoreClaim, memoryResultStore } from '../results/result-store.js';
import { type FakeAgent, fakeAgent } from '../testing/index.js';

const ORG = 'org-1';
const gateways: Gateway[] = [];
let seq = 0;
const rid = () => `claim${++seq}:n:0`;

/** A memory store whose claimDispatch waits for `open()`, so a test can act while the call is in flight. */
function gatedStore() {
  const inner = memoryResultStore();
  let open: () => void = () => {};
  let gate = Promise.resolve();
  const store: ResultStore = {
    get: (id) => inner.get(id),
    lookup: (id) => inner.lookup(id),
    put: (r) => inner.put(r),
    recordDispatch: (r) => inner.recordDispatch(r),
    claimDispatch: async (r: DispatchRecord): Promise<StoreClaim> => {
      await gate;
      return inner.claimDispatch!(r);
    },
  };
  return {
    store,
    inner,
    close() {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    open: () => open(),
  };
}

function make(resultStore: ResultStore): Gateway {
  const g = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', resultStore, selection: 'round_robin' });
  gateways.push(g);
  return g;
}

function ready(gateway: Gateway, agentId: string): FakeAgent {
  const a = fakeAgent(gateway, { agentId, organizationId: ORG, tags: [], maxInFlight: null });
  a.hello({ kinds: ['agent.execute'] });
  return a;
}

const request = (requestId: string) => ({ organizationId: ORG, requestId, kind: 'agent.execute', payload: {} });

afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close({ timeoutMs: 100 });
});

describe('dispatch through claimDispatch (single replica)', () => {
  it('records the dispatch before the execute leaves and answers a stored result without sending', async () => {
    const s = gatedStore();
    const gateway = make(s.store);
    const a = ready(gateway, 'a');
    const requestId = rid();
    expect(await gateway.dispatchAsync(request(requestId))).toMatchObject({ dispatched: true, agentId: 'a' });
    expect(a.frames('execute').map((f) => f.requestId)).toEqual([requestId]);
    expect((await s.inner.lookup(requestId)).dispatch).toMatchObject({ agentId: 'a', organizationId: ORG });
    a.send({ type: 'execute_result', requestId, status: 'succeeded', output: 1 });
    await expect.poll(async () => (await gateway.getResult(requestId))?.output).toBe(1);
    const again = await gateway.dispatchAsync(request(requestId));
    expect(again).toMatchObject({ dispatched: false });
    expect(a.frames('execute')).toHaveLength(1);
  });

  it('sends to another agent when the chosen one disconnects during the store call', async () => {
    const s = gatedStore();
    const gateway = make(s.store);
    const a = ready(gateway, 'a');
    const b = ready(gateway, 'b');
    const requestId = rid();
    s.close();
    const pending = gateway.dispatchAsync(request(requestId));
    await new Promise((r) => setImmediate(r));
    a.disconnect();
    s.open();
    expect(await pending).toMatchObject({ dispatched: true, agentId: 'b' });
    expect(a.frames('execute')).toHaveLength(0);
    expect(b.frames('execute').map((f) => f.requestId)).toEqual([requestId]);
    expect((await s.inner.lookup(requestId)).dispatch?.agentId).toBe('b');
  });

  it('answers NO_AGENT_AVAILABLE when the only agent left during the call, and a retry is not stuck', async () => {
    const s = gatedStore();
    const gateway = make(s.store);
    const a = ready(gateway, 'a');
    const requestId = rid();
    s.close();
    const pending = gateway.dispatchAsync(request(requestId));
    await new Promise((r) => setImmediate(r));
    a.disconnect();
    s.open();
    await expect(pending).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
    const c = ready(gateway, 'c');
    expect(await gateway.dispatchAsync(request(requestId))).toMatchObject({ dispatched: true, agentId: 'c' });
    expect(c.frames('execute').map((f) => f.requestId)).toEqual([requestId]);
  });

  it('two gateways sharing a store never both send the same request', async () => {
    const store = memoryResultStore();
    const g1 = make(store);
    const g2 = make(store);
    const a1 = ready(g1, 'a1');
    const a2 = ready(g2, 'a2');
    const requestId = rid();
    const outcomes = await Promise.all([g1.dispatchAsync(request(requestId)), g2.dispatchAsync(request(requestId))]);
    const sent = a1.frames('execute').length + a2.frames('execute').length;
    expect(sent).toBe(1);
    expect(outcomes.filter((o) => o.dispatched)).toHaveLength(1);
  });
});
