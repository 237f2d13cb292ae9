import type { DispatchRequestInput } from '@vespid/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { staticAuthenticator } from '../authenticator.js';
import { type Gateway, createGateway } from '../gateway.js';
import { type FakeAgent, fakeAgent } from '../testing/index.js';

const ORG = 'org-p';
let gateway: Gateway;
let seq = 0;
const rid = () => `p${++seq}:n:0`;

function agent(agentId: string, opts: { paused?: boolean; maxInFlight?: number } = {}): FakeAgent {
  const a = fakeAgent(gateway, { agentId, organizationId: ORG, tags: [], maxInFlight: opts.maxInFlight ?? null, paused: opts.paused });
  a.hello({ kinds: ['agent.execute'] });
  return a;
}

const req = (extra: Partial<DispatchRequestInput> = {}): DispatchRequestInput => ({
  organizationId: ORG,
  requestId: rid(),
  kind: 'agent.execute',
  payload: {},
  ...extra,
});
const executes = (a: FakeAgent) => a.frames('execute').map((e) => e.requestId);

afterEach(async () => {
  await gateway?.close({ timeoutMs: 100 });
});

describe('paused (cordoned) agents', () => {
  it('a paused agent is never selected, finishes what it runs, and explain counts it as paused', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc' });
    const a = agent('a');
    const running = req();
    await gateway.dispatchAsync(running);
    expect(executes(a)).toEqual([running.requestId]);

    expect(gateway.setAgentPaused('a', true)).toBe(1);
    expect(gateway.listSessions()[0]).toMatchObject({ paused: true, requests: [{ requestId: running.requestId, kind: 'agent.execute' }] });
    await expect(gateway.dispatchAsync(req())).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
    const why = gateway.explain({ organizationId: ORG, kind: 'agent.execute' });
    expect(why).toMatchObject({ connected: 1, eligible: 0, excluded: { paused: 1, kind: 0, capacity: 0 }, selected: null });
    expect(why.message).toContain('paused 1');

    // What it was running completes normally, with who ran it and when it was assigned.
    a.send({ type: 'execute_result', requestId: running.requestId, status: 'succeeded', output: 1 });
    await vi.waitFor(async () =>
      expect(await gateway.getResult(running.requestId)).toMatchObject({ status: 'succeeded', agentId: 'a', agentName: 'a' }),
    );
    const stored = await gateway.getResult(running.requestId);
    expect(stored?.assignedAt).toBeTypeOf('number');
    expect(stored!.assignedAt!).toBeLessThanOrEqual(stored!.completedAt);
  });

  it('work for a paused-only selector waits in the queue and runs once the agent is resumed', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc' });
    const a = agent('a', { paused: true });
    const r = req({ selector: { agentId: 'a' }, queueTimeoutMs: 60_000 });
    expect(await gateway.dispatchAsync(r)).toMatchObject({ queued: true, explanation: { excluded: { paused: 1 } } });
    expect(executes(a)).toEqual([]);

    gateway.setAgentPaused('a', false);
    expect(executes(a)).toEqual([r.requestId]);
    expect(gateway.listSessions()[0]?.paused).toBe(false);
  });

  it('a pause pushed before a reconnect wins over the authenticator and holds on the new session', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc' });
    gateway.setAgentPaused('b', true);
    const b = agent('b', { paused: false });
    await expect(gateway.dispatchAsync(req())).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
    gateway.setAgentPaused('b', false);
    const r = req();
    await gateway.dispatchAsync(r);
    expect(executes(b)).toEqual([r.requestId]);
  });
});
