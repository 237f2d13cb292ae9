import type { DispatchRequestInput } from '@vespid/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { staticAuthenticator } from '../authenticator.js';
import { type Gateway, createGateway } from '../gateway.js';
import { type GatewayMetrics, noopMetrics } from '../metrics.js';
import type { GatewayOptions } from '../options.js';
import { type FakeAgent, fakeAgent } from '../testing/index.js';

const ORG = 'org-q';
let gateway: Gateway;
let seq = 0;
const rid = () => `q${++seq}:n:0`;

function make(options: Partial<GatewayOptions> = {}): Gateway {
  gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', ...options });
  return gateway;
}

function agent(agentId: string, opts: { org?: string; maxInFlight?: number; hello?: boolean } = {}): FakeAgent {
  const a = fakeAgent(gateway, { agentId, organizationId: opts.org ?? ORG, tags: [], maxInFlight: opts.maxInFlight ?? null });
  if (opts.hello !== false) a.hello({ kinds: ['agent.execute'] });
  return a;
}

const req = (extra: Partial<DispatchRequestInput> = {}): DispatchRequestInput => ({
  organizationId: ORG,
  requestId: rid(),
  kind: 'agent.execute',
  payload: {},
  queueTimeoutMs: 60_000,
  ...extra,
});

const executes = (a: FakeAgent) => a.frames('execute').map((e) => e.requestId);
const answer = (a: FakeAgent, requestId: string, output: unknown = 'ok') =>
  a.send({ type: 'execute_result', requestId, status: 'succeeded', output });

afterEach(async () => {
  await gateway?.close({ timeoutMs: 100 });
});

describe('queued dispatch (fake connections)', () => {
  it('without queueTimeoutMs the runbook contract holds: NO_AGENT_AVAILABLE at once', async () => {
    make();
    await expect(gateway.dispatchAsync({ ...req(), queueTimeoutMs: undefined })).rejects.toMatchObject({
      code: 'NO_AGENT_AVAILABLE',
      httpStatus: 503,
    });
    await expect(gateway.dispatchAsync({ ...req(), queueTimeoutMs: 0 })).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
    expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute' }).queue.depth).toBe(0);
  });

  it('queues, answers a repeat without queueing twice, and assigns the moment an agent says hello', async () => {
    make();
    const r = req();
    const first = await gateway.dispatchAsync(r);
    expect(first).toMatchObject({ dispatched: false, queued: true, position: 1 });
    expect(first).toHaveProperty('explanation.connected', 0);
    const again = await gateway.dispatchAsync(r);
    expect(again).toMatchObject({ dispatched: false, queued: true, position: 1 });
    expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute', requestId: r.requestId }).queue).toEqual({
      depth: 1,
      position: 1,
    });
    const a = agent('a');
    expect(a.received.map((m) => m.type)).toEqual(['hello_ack', 'execute']);
    expect(executes(a)).toEqual([r.requestId]);
    expect(await gateway.dispatchAsync(r)).toMatchObject({ dispatched: false, inFlight: true });
    answer(a, r.requestId, 42);
    await vi.waitFor(async () => expect(await gateway.getResult(r.requestId)).toMatchObject({ status: 'succeeded', output: 42 }));
    expect(executes(a)).toEqual([r.requestId]);
  });

  it('a maxInFlight 1 agent runs 5 queued requests one by one, in order', async () => {
    make();
    const a = agent('a', { maxInFlight: 1 });
    const ids: string[] = [];
    const waits = [];
    for (let i = 0; i < 6; i++) {
      const r = req();
      ids.push(r.requestId);
      waits.push(gateway.dispatch(r));
    }
    await vi.waitFor(() => expect(executes(a)).toEqual([ids[0]]));
    expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute', requestId: ids[5]! }).queue).toEqual({ depth: 5, position: 5 });
    for (let i = 0; i < 6; i++) {
      await vi.waitFor(() => expect(executes(a)).toEqual(ids.slice(0, i + 1)));
      answer(a, ids[i]!, i);
    }
    const results = await Promise.all(waits);
    expect(results.map((x) => x.output)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses beyond orgMaxQueued with 429 QUEUE_FULL, per organization', async () => {
    make({ orgMaxQueued: 2 });
    await gateway.dispatchAsync(req());
    await gateway.dispatchAsync(req());
    await expect(gateway.dispatchAsync(req())).rejects.toMatchObject({ code: 'QUEUE_FULL', httpStatus: 429, retryable: true });
    expect(await gateway.dispatchAsync(req({ organizationId: 'org-other' }))).toMatchObject({ queued: true, position: 1 });
  });

  it('ends at its queue timeout with a stored NO_AGENT_AVAILABLE and the placement explanation', async () => {
    make();
    agent('busy', { maxInFlight: 1 });
    const first = req();
    await gateway.dispatchAsync(first);
    const r = req({ queueTimeoutMs: 30 });
    expect(await gateway.dispatchAsync(r)).toMatchObject({ queued: true, explanation: { connected: 1, excluded: { capacity: 1 } } });
    await vi.waitFor(async () => expect(await gateway.getResult(r.requestId)).not.toBeNull());
    const stored = await gateway.getResult(r.requestId);
    expect(stored).toMatchObject({
      status: 'failed',
      error: { code: 'NO_AGENT_AVAILABLE', retryable: true, details: { connected: 1, excluded: { capacity: 1 } } },
    });
    expect(stored?.error?.message).toMatch(/excluded by kind 0, connector 0, selector 0, capacity 1/);
    expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute' }).queue.depth).toBe(0);
  });

  it('is cancellable: by the host, and by the last synchronous caller aborting', async () => {
    make();
    const r1 = req();
    const waiting = gateway.dispatch(r1);
    await vi.waitFor(() => expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute' }).queue.depth).toBe(1));
    expect(gateway.cancelQueued(r1.requestId, 'org-wrong')).toBe(false);
    expect(gateway.cancelQueued(r1.requestId, ORG)).toBe(true);
    await expect(waiting).rejects.toMatchObject({ code: 'TASK_CANCELLED' });
    const ac = new AbortController();
    const r2 = req();
    const aborted = gateway.dispatch(r2, { signal: ac.signal });
    await vi.waitFor(() => expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute' }).queue.depth).toBe(1));
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'TASK_CANCELLED' });
    expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute' }).queue.depth).toBe(0);
    const a = agent('a');
    expect(executes(a)).toEqual([]);
    expect(gateway.cancelQueued(r2.requestId)).toBe(false);
  });

  it('never assigns queued work to a revoked agent, and keeps it when an agent disconnects', async () => {
    make();
    const a = agent('a', { maxInFlight: 1 });
    const running = req();
    await gateway.dispatchAsync(running);
    const queued = req();
    await gateway.dispatchAsync(queued);
    // `a` confirms the running request, then loses its connection: the queued request stays queued.
    a.send({ type: 'execute_received', requestId: running.requestId });
    a.disconnect();
    expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute', requestId: queued.requestId }).queue.position).toBe(1);
    // It comes back (a new session with a free slot) and takes the queued request.
    const a2 = agent('a', { maxInFlight: 1 });
    expect(executes(a2)).toEqual([queued.requestId]);
    const later = req();
    await gateway.dispatchAsync(later);
    // Revoked while busy: its session closes and its slot frees, yet the queued request never goes to it.
    expect(gateway.revokeAgent('a')).toBe(1);
    await vi.waitFor(() => expect(a2.closeCode).toBe(4403));
    const a3 = agent('a', { maxInFlight: 1 });
    await vi.waitFor(() => expect(a3.closeCode).toBe(4403));
    expect(executes(a3)).toEqual([]);
    expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute', requestId: later.requestId }).queue.position).toBe(1);
    const b = agent('b');
    expect(executes(b)).toEqual([later.requestId]);
    expect([...executes(a), ...executes(a2)]).not.toContain(later.requestId);
  });

  it('frees a slot → assigns; notifyCapacity and retag wake the queue; metrics report depth and time to assign', async () => {
    const depth: number[] = [];
    const assigned: number[] = [];
    const metrics: GatewayMetrics = { ...noopMetrics, queueDepth: (n) => depth.push(n), queueAssigned: (i) => assigned.push(i.waitedMs) };
    make({ metrics });
    const tagged = req({ selector: { tag: 'gpu' } });
    await gateway.dispatchAsync(tagged);
    const a = agent('a');
    expect(executes(a)).toEqual([]);
    expect(gateway.updateAgentTags('a', ['gpu'])).toBe(1);
    expect(executes(a)).toEqual([tagged.requestId]);
    expect(depth).toEqual([1, 0]);
    expect(assigned).toHaveLength(1);
    expect(assigned[0]).toBeGreaterThanOrEqual(0);
    // A host whose control plane resumes an agent calls notifyCapacity; without waiting work it is a no-op.
    gateway.notifyCapacity(ORG);
    gateway.notifyCapacity('nobody');
    expect(executes(a)).toEqual([tagged.requestId]);
  });

  it('a shutdown fails queued callers with GATEWAY_SHUTDOWN', async () => {
    make();
    const waiting = gateway.dispatch(req());
    await vi.waitFor(() => expect(gateway.explain({ organizationId: ORG, kind: 'agent.execute' }).queue.depth).toBe(1));
    await gateway.close({ timeoutMs: 100 });
    await expect(waiting).rejects.toMatchObject({ code: 'GATEWAY_SHUTDOWN' });
  });
});
