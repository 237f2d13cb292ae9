import type { Logger } from '@vespid/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { staticAuthenticator } from './authenticator.js';
import type { GatewayCluster } from './cluster/index.js';
import type { AgentConnection, ConnectionHandle } from './core/connection.js';
import { type Gateway, createGateway } from './gateway.js';
import type { GatewayEvents } from './gateway-events.js';
import { fakeAgent } from './testing/index.js';

const ORG = 'org-1';
const agentOf = (agentId: string) => ({ agentId, organizationId: ORG, tags: [] as string[] });
let gateway: Gateway | undefined;
let seq = 0;
const rid = () => `life${++seq}:n:0`;

afterEach(async () => {
  vi.useRealTimers();
  await gateway?.close({ timeoutMs: 100 });
  gateway = undefined;
});

function recorder() {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  const at =
    (level: string) =>
    (obj: object, msg = '') =>
      void lines.push({ level, obj, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** Every event of the gateway, in order. */
function record(g: Gateway) {
  const seen: Array<{ event: keyof GatewayEvents; payload: unknown }> = [];
  const names: Array<keyof GatewayEvents> = [
    'agent.connected',
    'agent.disconnected',
    'agents.seen',
    'request.queued',
    'request.dispatched',
    'request.settled',
  ];
  for (const event of names) g.on(event, (payload) => void seen.push({ event, payload }));
  return seen;
}

/** A transport whose close is reported only when the test says so (a peer slow to answer the close). */
function slowClosingAgent(g: Gateway, agentId: string) {
  let handle: ConnectionHandle | undefined;
  const state = { closeRequested: false, terminated: false };
  const connection: AgentConnection = {
    remoteAddress: '127.0.0.1',
    send: () => {},
    close: () => {
      state.closeRequested = true;
    },
    terminate: () => {
      state.terminated = true;
    },
  };
  handle = g.connect(connection, agentOf(agentId));
  handle.receive(
    JSON.stringify({ type: 'hello', protocol: 1, agentVersion: 't', name: agentId, capabilities: { kinds: ['agent.execute'] } }),
  );
  return { state, closed: (code: number) => handle?.closed(code) };
}

function fakeCluster(start: () => Promise<void>): GatewayCluster {
  const none = async () => {};
  return {
    replicaId: 'gw-test',
    bind: () => {},
    start,
    register: none,
    unregister: none,
    reserve: async () => ({ ok: false, reason: 'none' }) as never,
    release: none,
    forward: async () => 'unreachable',
    cancel: none,
    notifySettled: none,
    locate: async () => null,
    isAlive: async () => false,
    forget: none,
    drain: none,
    close: none,
    closed: false,
  };
}

describe('gateway.on(): typed observational events', () => {
  it('reports connected, dispatched, settled and disconnected, without payloads or secrets', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc' });
    const seen = record(gateway);
    const a = fakeAgent(gateway, agentOf('a'));
    a.hello({ kinds: ['agent.execute'] }, 'agent-a');
    const requestId = rid();
    const result = gateway.dispatch({
      organizationId: ORG,
      requestId,
      kind: 'agent.execute',
      payload: { script: 'payload-value' },
      secret: 's3cr3t-value',
    });
    await vi.waitFor(() => expect(a.frames('execute')).toHaveLength(1));
    a.send({ type: 'execute_result', requestId, status: 'succeeded', output: { out: 'output-value' } });
    await expect(result).resolves.toMatchObject({ status: 'succeeded' });
    a.disconnect(4000);

    expect(seen.map((e) => e.event)).toEqual(['agent.connected', 'request.dispatched', 'request.settled', 'agent.disconnected']);
    expect(seen[0]?.payload).toMatchObject({
      agentId: 'a',
      organizationId: ORG,
      name: 'agent-a',
      capabilities: { kinds: ['agent.execute'] },
    });
    expect(seen[1]?.payload).toEqual({ requestId, organizationId: ORG, kind: 'agent.execute', agentId: 'a' });
    expect(seen[2]?.payload).toMatchObject({ requestId, organizationId: ORG, kind: 'agent.execute', status: 'succeeded', agentId: 'a' });
    expect(seen[3]?.payload).toMatchObject({ agentId: 'a', organizationId: ORG, code: 4000 });
    const text = JSON.stringify(seen);
    for (const value of ['s3cr3t-value', 'payload-value', 'output-value']) expect(text).not.toContain(value);
  });

  it('reports a queued request, and liveness coalesced into one batch per flush', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', agentSeenIntervalMs: 20 });
    const seen = record(gateway);
    const requestId = rid();
    const queued = await gateway.dispatchAsync({
      organizationId: ORG,
      requestId,
      kind: 'agent.execute',
      payload: {},
      queueTimeoutMs: 60_000,
    });
    expect(queued).toMatchObject({ queued: true, position: 1 });
    expect(seen).toEqual([{ event: 'request.queued', payload: { requestId, organizationId: ORG, kind: 'agent.execute', position: 1 } }]);

    const a = fakeAgent(gateway, agentOf('a'));
    a.hello({ kinds: ['agent.execute'] });
    for (let i = 0; i < 20; i++) a.send({ type: 'ping', ts: i });
    await vi.waitFor(() => expect(seen.some((e) => e.event === 'agents.seen')).toBe(true));
    const batch = seen.find((e) => e.event === 'agents.seen')?.payload as GatewayEvents['agents.seen'];
    expect(batch.map((b) => b.agentId)).toEqual(['a']);
    // Capacity appeared: the queued request went to the agent that said hello.
    expect(seen.find((e) => e.event === 'request.dispatched')?.payload).toMatchObject({ requestId, agentId: 'a' });
  });

  it('logs a listener that throws or rejects, and the gateway carries on; off() removes a listener', async () => {
    const { logger, lines } = recorder();
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', logger });
    gateway.on('agent.connected', () => {
      throw new Error('listener broke');
    });
    gateway.on('agent.connected', async () => {
      throw new Error('async listener broke');
    });
    const calls: string[] = [];
    const counted = ({ agentId }: { agentId: string }) => void calls.push(agentId);
    gateway.on('agent.connected', counted);
    const a = fakeAgent(gateway, agentOf('a'));
    a.hello();
    expect(a.frames('hello_ack')).toHaveLength(1);
    await vi.waitFor(() => expect(lines.filter((l) => l.msg === 'gateway event listener failed')).toHaveLength(2));
    expect(lines.map((l) => JSON.stringify(l.obj)).join()).toContain('async listener broke');
    gateway.off('agent.connected', counted);
    fakeAgent(gateway, agentOf('b')).hello();
    expect(calls).toEqual(['a']);
  });

  it('refuses the removed hook options with the event that replaces each', () => {
    const make = (extra: object) => () => createGateway({ authenticator: staticAuthenticator([]), ...extra } as never);
    expect(make({ onAgentHello: () => {} })).toThrow(/onAgentHello was removed: use gateway.on\('agent.connected'/);
    expect(make({ onAgentSeen: () => {} })).toThrow(/onAgentSeen was removed: use gateway.on\('agents.seen'/);
    expect(make({ onAgentDisconnected: () => {} })).toThrow(/onAgentDisconnected was removed: use gateway.on\('agent.disconnected'/);
  });
});

describe('gateway.close(): drained by session closes, forced at timeoutMs', () => {
  it('resolves when the last session reports its close, with no timer running', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc' });
    const slow = slowClosingAgent(gateway, 'a');
    // Fake timers: a close() that polled on a timer could never finish here.
    vi.useFakeTimers();
    let done = false;
    const closing = gateway.close({ timeoutMs: 60_000 }).then(() => {
      done = true;
    });
    await vi.waitFor(() => expect(slow.state.closeRequested).toBe(true));
    expect(done).toBe(false);
    slow.closed(1001);
    await closing;
    expect(slow.state.terminated).toBe(false);
    expect(gateway.state).toBe('closed');
  });

  it('terminates sessions still open at timeoutMs', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc' });
    const slow = slowClosingAgent(gateway, 'a');
    vi.useFakeTimers();
    const closing = gateway.close({ timeoutMs: 5_000 });
    await vi.advanceTimersByTimeAsync(5_000);
    await closing;
    expect(slow.state.terminated).toBe(true);
    expect(gateway.listSessions()).toEqual([]);
  });
});

describe('gateway.start(): the awaited start of a cluster gateway', () => {
  it('surfaces a cluster that cannot start, serves nothing until started, and can be retried', async () => {
    let fail = true;
    const cluster = fakeCluster(async () => {
      if (fail) throw new Error('redis unreachable');
    });
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', cluster });
    expect(gateway.state).toBe('idle');
    await expect(gateway.start()).rejects.toThrow('redis unreachable');
    expect(gateway.state).toBe('idle');
    const request = { organizationId: ORG, requestId: rid(), kind: 'agent.execute', payload: {} };
    await expect(gateway.dispatchAsync(request)).rejects.toMatchObject({ code: 'GATEWAY_UNAVAILABLE' });
    expect(() => fakeAgent(gateway as Gateway, agentOf('a'))).toThrow(/not started/);

    fail = false;
    await gateway.start();
    expect(gateway.state).toBe('running');
    await expect(gateway.start()).resolves.toBeUndefined();
  });

  it('runs at once without a cluster; start() resolves and is idempotent', async () => {
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc' });
    expect(gateway.state).toBe('running');
    await expect(gateway.start()).resolves.toBeUndefined();
    await gateway.close();
    await expect(gateway.start()).rejects.toMatchObject({ code: 'GATEWAY_SHUTDOWN' });
  });
});
