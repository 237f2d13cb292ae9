import { afterEach, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from './agent.js';
import { AgentAuthError } from './errors.js';
import type { Executor } from './executor.js';
import { capturingLogger, createFakeAgentGateway, type FakeAgentGateway } from './testing/index.js';
import { waitFor } from '../../../test/support/wait-for.js';

const ORG = 'org-test';
const TOKEN = `${ORG}.tok_${'a'.repeat(24)}`;

/** An executor whose tasks wait until released or aborted; records peak concurrency. */
function gatedExecutor(kind = 'gated') {
  let running = 0;
  const stats = { peak: 0, started: 0, aborted: 0 };
  const gates = new Map<string, () => void>();
  const executor: Executor = {
    kind,
    async execute(task, ctx) {
      running++;
      stats.started++;
      stats.peak = Math.max(stats.peak, running);
      try {
        await new Promise<void>((resolve, reject) => {
          gates.set(task.requestId, resolve);
          ctx.signal.addEventListener('abort', () => {
            stats.aborted++;
            reject(ctx.signal.reason);
          });
        });
        return { status: 'succeeded', output: { done: task.requestId } };
      } finally {
        running--;
      }
    },
  };
  const release = (id: string) => gates.get(id)?.();
  return { executor, stats, release, gates };
}

const echo: Executor = {
  kind: 'echo',
  async execute(task, ctx) {
    return { status: 'succeeded', output: { payload: task.payload, secretSeen: ctx.secret ?? null } };
  },
};

describe('createAgent against a protocol-faithful gateway', () => {
  let gw: FakeAgentGateway;
  let agent: Agent | undefined;

  afterEach(async () => {
    await agent?.close({ timeoutMs: 500 });
    agent = undefined;
    await gw?.close();
  });

  const start = async (extra: Partial<Parameters<typeof createAgent>[0]> = {}) => {
    agent = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: TOKEN,
      name: 'unit-agent',
      tags: ['east', 'group:alpha'],
      executors: [echo],
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      ...extra,
    });
    const session = gw.nextSession();
    await agent.start();
    return session;
  };

  it('sends hello with kinds, connectors, tags and maxInFlight 10 by default', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const connectorish: Executor = { kind: 'connector.action', connectors: ['http', 'github'], execute: echo.execute };
    const session = await start({ executors: [echo, connectorish] });
    expect((await session).hello).toMatchObject({
      protocol: 1,
      name: 'unit-agent',
      capabilities: { kinds: ['echo', 'connector.action'], connectors: ['http', 'github'], tags: ['east', 'group:alpha'], maxInFlight: 10 },
    });
    await waitFor(() => agent?.state === 'connected', 'connected');
    expect(agent?.agentId).toBe('agent-1');
  });

  it('acknowledges receipt, returns the result, and forgets it only after execute_ack', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, ackResults: false });
    const s = await await start();
    const result = await gw.execute({ requestId: 'r1', kind: 'echo', payload: { n: 1 } });
    expect(result).toMatchObject({ status: 'succeeded', output: { payload: { n: 1 } } });
    expect(s.frames.map((f) => f.type)).toEqual(['hello', 'execute_received', 'execute_result']);
    expect(agent?.pendingResults).toBe(1);
    // Reconnect: the unacked result is resent on the new session, then acked and forgotten.
    gw.setAckResults(true);
    const next = gw.nextSession();
    gw.dropSessions(1001, 'restart');
    const s2 = await next;
    await waitFor(() => s2.frames.some((f) => f.type === 'execute_result'), 'resend');
    await waitFor(() => agent?.pendingResults === 0, 'ack');
  });

  it('does not run a repeated execute twice', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, ackResults: false });
    const counted = { n: 0 };
    const counting: Executor = {
      kind: 'count',
      async execute() {
        counted.n++;
        return { status: 'succeeded', output: counted.n };
      },
    };
    await start({ executors: [counting] });
    await gw.execute({ requestId: 'dup', kind: 'count' });
    const again = await gw.execute({ requestId: 'dup', kind: 'count' });
    expect(again.output).toBe(1);
    expect(counted.n).toBe(1);
  });

  it('refuses an execute addressed to another organization and unknown kinds', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    await start();
    const foreign = await gw.execute({ requestId: 'f1', kind: 'echo', organizationId: 'other-org' });
    expect(foreign).toMatchObject({ status: 'failed', error: { code: 'ORG_MISMATCH' } });
    const unknown = await gw.execute({ requestId: 'u1', kind: 'nope' });
    expect(unknown).toMatchObject({ status: 'failed', error: { code: 'KIND_NOT_SUPPORTED' } });
  });

  it('never runs more than maxInFlight tasks at once, and runs all of them', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const g = gatedExecutor();
    await start({ executors: [g.executor], maxInFlight: 2 });
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    const results = ids.map((id) => gw.execute({ requestId: id, kind: 'gated' }));
    for (let round = 0; round < ids.length; round++) {
      await waitFor(() => g.gates.size > round, `task ${round} started`);
      expect(agent!.inFlight).toBeLessThanOrEqual(ids.length);
      g.release([...g.gates.keys()][round]!);
    }
    const all = await Promise.all(results);
    expect(all.every((r) => r.status === 'succeeded')).toBe(true);
    expect(g.stats.peak).toBe(2);
  });

  it('aborts a running task on cancel and on its timeout, with distinct codes', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const g = gatedExecutor();
    await start({ executors: [g.executor] });
    const cancelled = gw.execute({ requestId: 'c1', kind: 'gated' });
    await waitFor(() => g.gates.has('c1'), 'c1 running');
    gw.sessions.at(-1)!.send({ type: 'cancel', requestId: 'c1', reason: 'user stopped the run' });
    expect(await cancelled).toMatchObject({ status: 'failed', error: { code: 'TASK_CANCELLED' } });
    const timedOut = await gw.execute({ requestId: 't1', kind: 'gated', timeoutMs: 100 });
    expect(timedOut).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
    expect(g.stats.aborted).toBe(2);
  });

  it('reports a cancel of a queued task at once, without waiting for a free slot', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const g = gatedExecutor();
    await start({ executors: [g.executor], maxInFlight: 1 });
    const first = gw.execute({ requestId: 'busy', kind: 'gated' });
    await waitFor(() => g.gates.has('busy'), 'busy running');
    const queued = gw.execute({ requestId: 'queued', kind: 'gated' });
    await waitFor(() => agent!.inFlight === 2, 'queued accepted');
    gw.sessions.at(-1)!.send({ type: 'cancel', requestId: 'queued', reason: 'not needed' });
    expect(await queued).toMatchObject({ status: 'failed', error: { code: 'TASK_CANCELLED' } });
    expect(g.stats.started).toBe(1);
    g.release('busy');
    expect(await first).toMatchObject({ status: 'succeeded' });
  });

  it('reclaims the slot of an executor that ignores its abort, after the grace period', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const started: string[] = [];
    const stubborn: Executor = {
      kind: 'stubborn',
      async execute(task) {
        started.push(task.requestId);
        // Ignores ctx.signal on purpose; finishes on its own much later.
        await new Promise((r) => setTimeout(r, 3000).unref());
        return { status: 'succeeded' };
      },
    };
    const logger = capturingLogger();
    await start({ executors: [stubborn], maxInFlight: 1, abortGraceMs: 100, logger });
    const first = await gw.execute({ requestId: 'deaf', kind: 'stubborn', timeoutMs: 100 });
    expect(first).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
    expect(started).toEqual(['deaf']);
    // The next task gets the slot once the grace period is over, not after the stubborn executor returns.
    const second = gw.execute({ requestId: 'next', kind: 'stubborn', timeoutMs: 100 });
    await waitFor(() => started.length === 2, { what: 'second task started', timeoutMs: 2000 });
    expect(await second).toMatchObject({ error: { code: 'NODE_EXECUTION_TIMEOUT' } });
    expect(logger.lines.join('\n')).toContain('executor ignored its abort signal');
  });

  it('close() aborts tasks still running at the drain deadline and delivers their results first', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const g = gatedExecutor();
    await start({ executors: [g.executor] });
    const quick = gw.execute({ requestId: 'q1', kind: 'gated' });
    const stuck = gw.execute({ requestId: 's1', kind: 'gated' });
    await waitFor(() => g.gates.size === 2, 'both running');
    setTimeout(() => g.release('q1'), 50);
    const closing = agent!.close({ timeoutMs: 1500 });
    expect(agent!.state).toBe('closing');
    const late = await gw.execute({ requestId: 'late', kind: 'gated' });
    expect(late).toMatchObject({ status: 'failed', error: { code: 'AGENT_SHUTDOWN' } });
    await closing;
    expect(await quick).toMatchObject({ status: 'succeeded' });
    expect(await stuck).toMatchObject({ status: 'failed', error: { code: 'AGENT_SHUTDOWN' } });
    expect(agent!.closed).toBe(true);
    expect(agent!.pendingResults).toBe(0);
    expect((await agent!.done).state).toBe('closed');
  });

  it('redacts the request secret from results and never logs it', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const logger = capturingLogger();
    const canary = 'canary-secret-value-123456';
    await start({ logger });
    const result = await gw.execute({ requestId: 'sec', kind: 'echo', secret: canary, payload: { echo: canary } });
    expect(JSON.stringify(result)).not.toContain(canary);
    expect(result.output).toEqual({ payload: { echo: '[REDACTED]' }, secretSeen: '[REDACTED]' });
    expect(logger.lines.join('\n')).not.toContain(canary);
    expect(logger.lines.join('\n')).not.toContain(TOKEN);
  });

  it('reconnects when the gateway stops answering pings', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, heartbeatMs: 100 });
    await start();
    const next = gw.nextSession();
    const disconnected = new Promise((r) => agent!.on('disconnected', r));
    gw.setAnswerPings(false);
    await disconnected;
    gw.setAnswerPings(true);
    await next;
    expect(gw.sessions.length).toBe(2);
  });

  it.each([
    ['invalid', 401, 'UNAUTHORIZED'],
    ['revoked', 403, 'AGENT_REVOKED'],
  ] as const)('stops with a clear error on HTTP %s (%i) instead of retrying', async (kind, status, code) => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    gw.refuse(kind);
    const logger = capturingLogger();
    agent = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: TOKEN,
      name: 'x',
      executors: [echo],
      logger,
      reconnect: { initialDelayMs: 10 },
    });
    await agent.start();
    const info = await agent.done;
    expect(info.state).toBe('stopped');
    expect(info.error).toBeInstanceOf(AgentAuthError);
    expect(info.error).toMatchObject({ code, status });
    expect(info.error?.message).toMatch(/pair the agent again/);
    expect(agent.state).toBe('stopped');
    expect(logger.lines.join('\n')).not.toContain(TOKEN.split('.')[1]);
  });

  it('stops when an open session is closed with 4403 (revoked)', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    await start();
    gw.dropSessions(4403, 'revoked');
    const info = await agent!.done;
    expect(info.error).toMatchObject({ code: 'AGENT_REVOKED', status: 4403 });
    expect(gw.sessions.length).toBe(1);
  });

  it('rejects start() when an executor cannot start, and can be started again', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    let attempts = 0;
    const flaky: Executor = {
      kind: 'flaky',
      async start() {
        if (++attempts === 1) throw new Error('engine unreachable');
      },
      execute: echo.execute,
    };
    agent = createAgent({ gatewayWsUrl: gw.url, agentToken: TOKEN, name: 'x', executors: [flaky] });
    await expect(agent.start()).rejects.toThrow('engine unreachable');
    expect(agent.state).toBe('idle');
    const session = gw.nextSession();
    await agent.start();
    expect((await session).hello.capabilities.kinds).toEqual(['flaky']);
  });

  it('keeps retrying while the gateway is unreachable and connects once it is back', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN });
    const port = gw.port;
    await gw.close();
    agent = createAgent({
      gatewayWsUrl: `ws://127.0.0.1:${port}/ws`,
      agentToken: TOKEN,
      name: 'x',
      executors: [echo],
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    const disconnects: boolean[] = [];
    agent.on('disconnected', (d) => disconnects.push(d.willReconnect));
    await agent.start();
    await waitFor(() => disconnects.length >= 3, 'several failed attempts');
    expect(disconnects.every(Boolean)).toBe(true);
    expect(agent.state).toBe('reconnecting');
  });
});

describe('createAgent options', () => {
  it('refuses invalid options with AGENT_CONFIG_INVALID, naming the field but never the token', () => {
    const bad = (o: object) => () =>
      createAgent({ gatewayWsUrl: 'ws://127.0.0.1:1/ws', agentToken: TOKEN, name: 'x', executors: [echo], ...o });
    expect(bad({ executors: [] })).toThrow(/executors: register at least one executor/);
    expect(bad({ gatewayWsUrl: 'http://x' })).toThrow(expect.objectContaining({ code: 'AGENT_CONFIG_INVALID' }));
    expect(bad({ maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(bad({ executors: [echo, echo] })).toThrow(/two executors registered for kind echo/);
    expect(bad({ agentToken: '' })).toThrow(/agentToken/);
    const strict = () => createAgent({ gatewayWsUrl: 'ws://h/ws', agentToken: TOKEN, name: 'x', executors: [echo], bogus: 1 } as never);
    expect(strict).toThrow(/bogus/);
    expect(strict).not.toThrow(TOKEN);
  });
});
