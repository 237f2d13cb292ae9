import { CloseCode, type Logger } from '@vespid/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { staticAuthenticator } from '../authenticator.js';
import { type Gateway, createGateway } from '../gateway.js';
import type { AgentSeen } from '../gateway-events.js';
import type { GatewayOptions } from '../options.js';
import { type FakeAgent, fakeAgent } from '../testing/index.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const ORG = 'org-1';
let gateway: Gateway;
let seq = 0;
const rid = () => `r${++seq}:n:0`;

function make(options: Partial<GatewayOptions> = {}): Gateway {
  gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', ...options });
  return gateway;
}

function ready(agentId: string, extra: { tags?: string[]; maxInFlight?: number; org?: string } = {}, caps = {}): FakeAgent {
  const a = fakeAgent(gateway, {
    agentId,
    organizationId: extra.org ?? ORG,
    tags: extra.tags ?? [],
    maxInFlight: extra.maxInFlight ?? null,
  });
  a.hello(caps);
  return a;
}

afterEach(async () => {
  await gateway?.close({ timeoutMs: 100 });
});

describe('gateway core with fake connections', () => {
  it('acks hello with identity and heartbeat; maxInFlight is min(reported, control-plane cap)', () => {
    make({ staleMs: 30_000 });
    const a = ready('a', { maxInFlight: 3 }, { maxInFlight: 50 });
    expect(a.frames('hello_ack')[0]).toMatchObject({ agentId: 'a', organizationId: ORG, heartbeatMs: 10_000 });
    const b = ready('b', {}, {});
    expect(b.frames('hello_ack')).toHaveLength(1);
    const byId = Object.fromEntries(gateway.listSessions().map((s) => [s.agentId, s.maxInFlight]));
    expect(byId).toEqual({ a: 3, b: 10 });
  });

  it('echoes receipt_in_result in hello_ack only to an agent that announced it (an older agent never sees `features`)', () => {
    make();
    const a = ready('a', {}, { features: ['receipt_in_result', 'trace'] });
    expect(a.frames('hello_ack')[0]).toMatchObject({ features: ['receipt_in_result'] });
    const old = ready('b', {}, {});
    expect(old.frames('hello_ack')[0]).not.toHaveProperty('features');
  });

  it('finds the one matching agent among 2,000 of the same org, and rotates fairly among many', async () => {
    make({ selection: 'round_robin' });
    const agents: FakeAgent[] = [];
    for (let i = 0; i < 2000; i++) agents.push(ready(`a${i}`, { tags: i === 1234 ? ['rare'] : ['common'] }, { kinds: ['agent.execute'] }));
    const picked = await gateway.dispatchAsync({
      organizationId: ORG,
      requestId: rid(),
      kind: 'agent.execute',
      payload: {},
      selector: { tag: 'rare' },
    });
    expect(picked).toMatchObject({ dispatched: true, agentId: 'a1234' });
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const r = await gateway.dispatchAsync({ organizationId: ORG, requestId: rid(), kind: 'agent.execute', payload: {} });
      if (r.dispatched) seen.add(r.agentId);
    }
    // Round robin over 2,000 agents touches each exactly once in 2,000 dispatches.
    expect(seen.size).toBe(2000);
  });

  it('ignores frames from a replaced session and never lets it evict the newer one', async () => {
    make();
    const old = ready('a');
    const fresh = ready('a');
    await Promise.resolve();
    expect(old.closeCode).toBe(CloseCode.Replaced);
    old.disconnect(CloseCode.Replaced);
    expect(
      gateway
        .listSessions()
        .filter((s) => s.state === 'ready')
        .map((s) => s.agentId),
    ).toEqual(['a']);
    const r = await gateway.dispatchAsync({ organizationId: ORG, requestId: rid(), kind: 'agent.execute', payload: {} });
    expect(r.dispatched).toBe(true);
    expect(fresh.frames('execute')).toHaveLength(1);
  });

  it('reports liveness coalesced: one entry per agent per flush, no matter how many pings', async () => {
    const batches: AgentSeen[][] = [];
    make({ agentSeenIntervalMs: 30 }).on('agents.seen', (b) => void batches.push(b));
    const a = ready('a');
    const b = ready('b');
    for (let i = 0; i < 500; i++) {
      a.send({ type: 'ping', ts: i });
      b.send({ type: 'ping', ts: i });
    }
    await waitFor(() => batches.length > 0, 'an agent-seen batch');
    expect(batches[0]?.map((s) => s.agentId).sort()).toEqual(['a', 'b']);
    expect(a.frames('pong')).toHaveLength(500);
  });

  it("reports hello capabilities through on('agent.connected')", () => {
    const hellos: unknown[] = [];
    make().on('agent.connected', (info) => void hellos.push(info));
    ready('a', {}, { kinds: ['agent.execute'], tags: ['claimed'] });
    expect(hellos).toEqual([
      expect.objectContaining({ agentId: 'a', organizationId: ORG, capabilities: expect.objectContaining({ tags: ['claimed'] }) }),
    ]);
  });

  it('rejects bad dispatch requests with BAD_REQUEST and unknown result ids with a log line', async () => {
    make();
    await expect(gateway.dispatch({ organizationId: ORG } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(gateway.getResult('bad id with spaces')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('refuses a requestId already used by another organization', async () => {
    make();
    ready('a');
    const requestId = rid();
    await gateway.dispatchAsync({ organizationId: ORG, requestId, kind: 'agent.execute', payload: {} });
    await expect(gateway.dispatchAsync({ organizationId: 'org-2', requestId, kind: 'agent.execute', payload: {} })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('lets a caller stop waiting without cancelling the request', async () => {
    make();
    const a = ready('a');
    const ac = new AbortController();
    const requestId = rid();
    const p = gateway.dispatch({ organizationId: ORG, requestId, kind: 'agent.execute', payload: {} }, { signal: ac.signal });
    await waitFor(() => a.frames('execute').length > 0, 'the execute frame');
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'TASK_CANCELLED' });
    a.send({ type: 'execute_result', requestId, status: 'succeeded', output: 7 });
    expect(await waitFor(async () => (await gateway.getResult(requestId))?.output, 'the stored result')).toBe(7);
  });
});

describe('secrets never reach logs', () => {
  it('keeps a canary secret and canary tokens out of every log line', async () => {
    const lines: string[] = [];
    const capture = (level: string) => (obj: object, msg?: string) => lines.push(JSON.stringify({ level, obj, msg }));
    const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
    const SECRET = 'CANARY-SECRET-7f3a9c';
    make({ logger });
    const a = ready('a');
    const ok = gateway.dispatch({ organizationId: ORG, requestId: rid(), kind: 'agent.execute', payload: {}, secret: SECRET });
    await waitFor(() => a.frames('execute').length > 0, 'the execute frame');
    const exec = a.frames('execute')[0]!;
    expect(exec.secret).toBe(SECRET);
    a.send({ type: 'execute_result', requestId: exec.requestId, status: 'succeeded', output: 'fine' });
    await ok;
    await gateway.dispatch({ organizationId: ORG, requestId: rid(), kind: 'agent.execute', payload: {}, secret: SECRET, timeoutMs: 20 });
    await gateway.dispatch({ organizationId: ORG, requestId: rid(), kind: 'nope.kind', payload: {}, secret: SECRET }).catch(() => {});
    await gateway
      .dispatch({ organizationId: ORG, requestId: rid(), kind: 'agent.execute', payload: {}, secret: SECRET.repeat(10_000) })
      .catch(() => {});
    const b = ready('b');
    b.send({ type: 'execute_result', requestId: exec.requestId, status: 'succeeded', output: SECRET });
    await waitFor(() => lines.some((l) => l.includes('dropped') && l.includes('"agentId":"b"')), 'the dropped-result log line');
    a.send(`{"type":"execute_result","requestId":"zz","status":"weird","output":"${SECRET}"}`);
    await gateway.close({ timeoutMs: 50 });
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line).not.toContain(SECRET);
  });
});
