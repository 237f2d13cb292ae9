/**
 * The agent runtime against the REAL gateway (`createGateway` from @vespid/sdk-gateway) over real
 * sockets on 127.0.0.1. No external service is needed: the gateway's result store is the in-memory
 * one, shared across a gateway restart the way Redis would be.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticAuthenticator } from '@vespid/sdk-gateway';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, type AgentEvents, createAgent } from './agent.js';
import { readAgentConfig, writeAgentConfig } from './config-file.js';
import { connectorActionExecutor } from './connector-executor.js';
import { githubConnector } from './connectors/github.js';
import { httpConnector } from './connectors/http.js';
import type { Executor } from './executor.js';
import { pairAgent } from './pairing.js';
import { countingStore, startRealGateway } from '../test/test-gateway.js';
import { localServer } from '../test/test-http-server.js';
import { capturingLogger } from './testing/index.js';
import { waitFor } from '../../../test/support/wait-for.js';

const ORG = 'org-int';
let seq = 0;
const newToken = () => `${ORG}.agenttoken${String(++seq).padStart(4, '0')}${Math.random().toString(36).slice(2, 14)}`;

/** Tasks wait until released or aborted; records peak concurrency and abort reasons. */
function gated(kind = 'gated') {
  let running = 0;
  const s = { peak: 0, gates: new Map<string, () => void>(), abortCodes: [] as string[] };
  const executor: Executor = {
    kind,
    async execute(task, ctx) {
      running++;
      s.peak = Math.max(s.peak, running);
      try {
        await new Promise<void>((resolve, reject) => {
          s.gates.set(task.requestId, resolve);
          ctx.signal.addEventListener('abort', () => {
            s.abortCodes.push((ctx.signal.reason as { code?: string })?.code ?? '?');
            reject(ctx.signal.reason);
          });
        });
        return { status: 'succeeded', output: { done: task.requestId } };
      } finally {
        running--;
      }
    },
  };
  return { executor, s };
}

describe('agent ⇄ real gateway', () => {
  const auth = staticAuthenticator([]);
  const agents: Agent[] = [];
  const closers: (() => Promise<void>)[] = [];
  const spawn = (token: string, url: string, extra: Partial<Parameters<typeof createAgent>[0]> & { executors: Executor[] }) => {
    const a = createAgent({
      gatewayWsUrl: url,
      agentToken: token,
      name: 'int-agent',
      reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
      ...extra,
    });
    agents.push(a);
    return a;
  };
  const connected = (a: Agent) => new Promise<AgentEvents['connected']>((r) => a.on('connected', r));

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close({ timeoutMs: 1000 })));
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('pairing → config file (0600) → connect → hello reaches the gateway', async () => {
    const gw = await startRealGateway({ auth });
    closers.push(gw.close);
    const token = newToken();
    const pairingToken = `${ORG}.pairing_${Math.random().toString(36).slice(2)}_xyz`;
    const api = await localServer((req, body, res) => {
      const b = JSON.parse(body || '{}');
      res.setHeader('content-type', 'application/json');
      if (req.url !== '/v1/agents/pair' || b.pairingToken !== pairingToken) {
        res.statusCode = 401;
        return res.end(JSON.stringify({ code: 'PAIRING_TOKEN_INVALID', message: 'invalid' }));
      }
      auth.set({ token, agentId: 'agent-paired', organizationId: ORG, tags: b.tags ?? [] });
      res.statusCode = 201;
      res.end(JSON.stringify({ agentId: 'agent-paired', agentToken: token, organizationId: ORG, gatewayWsUrl: gw.wsUrl }));
    });
    closers.push(api.close);
    const dir = await mkdtemp(join(tmpdir(), 'vespid-int-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));

    const creds = await pairAgent({ pairingToken, apiBase: api.url, name: 'edge-1', tags: ['east', 'group:alpha'] });
    const path = join(dir, '.vespid', 'agent.json');
    await writeAgentConfig(path, { ...creds, apiBase: api.url, name: 'edge-1', tags: ['east', 'group:alpha'] });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, '.vespid'))).mode & 0o777).toBe(0o700);

    const config = await readAgentConfig(path);
    const agent = spawn(config.agentToken, config.gatewayWsUrl, {
      name: config.name,
      tags: config.tags,
      executors: [connectorActionExecutor({ connectors: [httpConnector()] })],
    });
    const up = connected(agent);
    await agent.start();
    expect(await up).toMatchObject({ agentId: 'agent-paired', organizationId: ORG });
    const sessions = gw.gateway.listSessions();
    expect(sessions).toHaveLength(1);
    expect(JSON.stringify(sessions[0])).toContain('agent-paired');
    expect(
      gw.gateway.explain({
        organizationId: ORG,
        kind: 'connector.action',
        payload: { connectorId: 'http', actionId: 'request', input: {} },
      }),
    ).toMatchObject({
      selected: { agentId: 'agent-paired', name: 'edge-1' },
    });
  });

  it('after a gateway restart: reconnects with jitter, and a result finished during the outage is stored once', async () => {
    const store = countingStore();
    let gw = await startRealGateway({ auth, store });
    const port = gw.port;
    const g = gated();
    const fleet: Agent[] = [];
    const firstDelays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const token = newToken();
      auth.set({ token, agentId: `agent-r${i}`, organizationId: ORG, tags: i === 0 ? ['worker'] : [] });
      const a = spawn(token, gw.wsUrl, { executors: [g.executor], reconnect: { initialDelayMs: 300, maxDelayMs: 2000 } });
      let first = true;
      a.on('disconnected', (d) => {
        if (first && d.delayMs !== undefined) firstDelays.push(d.delayMs);
        first = false;
      });
      const up = connected(a);
      await a.start();
      await up;
      fleet.push(a);
    }
    const busy = fleet[0]!;
    const out = await gw.gateway.dispatchAsync({
      organizationId: ORG,
      requestId: 'run-r:node:0',
      kind: 'gated',
      payload: {},
      selector: { tag: 'worker' },
      timeoutMs: 60_000,
    });
    expect(out).toMatchObject({ dispatched: true });
    await waitFor(() => g.s.gates.has('run-r:node:0'), { what: 'task running', timeoutMs: 10_000 });

    await gw.close();
    await waitFor(() => fleet.every((a) => a.state === 'reconnecting'), { what: 'every agent noticed the outage', timeoutMs: 10_000 });
    g.s.gates.get('run-r:node:0')!();
    await waitFor(() => busy.pendingResults === 1, { what: 'result waiting in the outbox', timeoutMs: 10_000 });

    gw = await startRealGateway({ auth, store, port });
    closers.push(gw.close);
    await waitFor(() => gw.gateway.listSessions().length === 6, { what: 'whole fleet back', timeoutMs: 15_000 });
    await waitFor(() => busy.pendingResults === 0, { what: 'result acked after restart', timeoutMs: 10_000 });
    expect(await store.get('run-r:node:0')).toMatchObject({ status: 'succeeded', output: { done: 'run-r:node:0' }, agentId: 'agent-r0' });
    expect(store.puts.get('run-r:node:0')).toBe(1);
    // Full jitter: the fleet did not retry in lockstep, and every delay is inside the first window.
    expect(firstDelays).toHaveLength(6);
    expect(new Set(firstDelays).size).toBeGreaterThan(1);
    expect(Math.max(...firstDelays)).toBeLessThan(300);
  });

  it('a revoked agent stops with a clear message instead of retrying forever', async () => {
    const gw = await startRealGateway({ auth });
    closers.push(gw.close);
    const token = newToken();
    auth.set({ token, agentId: 'agent-revoked', organizationId: ORG, tags: [] });
    const logger = capturingLogger();
    const agent = spawn(token, gw.wsUrl, { executors: [gated().executor], logger });
    const up = connected(agent);
    await agent.start();
    await up;
    const disconnects: AgentEvents['disconnected'][] = [];
    agent.on('disconnected', (d) => disconnects.push(d));
    auth.revoke('agent-revoked');
    expect(gw.gateway.revokeAgent('agent-revoked')).toBe(1);
    const stop = await agent.done;
    expect(stop).toMatchObject({ state: 'stopped', error: { code: 'AGENT_REVOKED', status: 4403 } });
    expect(stop.error?.message).toMatch(/revoked.*pair the agent again/);
    expect(disconnects).toEqual([expect.objectContaining({ code: 4403, willReconnect: false })]);
    await waitFor(() => gw.gateway.listSessions().length === 0, { what: 'session gone on the gateway', timeoutMs: 10_000 });
    expect(logger.lines.join('\n')).not.toContain(token.split('.')[1]);

    // And a restarted agent with the revoked token is refused at the upgrade (HTTP 403) and stops too.
    const again = spawn(token, gw.wsUrl, { executors: [gated().executor] });
    await again.start();
    expect(await again.done).toMatchObject({ state: 'stopped', error: { code: 'AGENT_REVOKED', status: 403 } });
  });

  it('never runs more than maxInFlight tasks, and cancel (gateway timeout) and shutdown abort running tasks', async () => {
    const gw = await startRealGateway({ auth });
    closers.push(gw.close);
    const token = newToken();
    auth.set({ token, agentId: 'agent-cap', organizationId: ORG, tags: [] });
    const g = gated();
    const agent = spawn(token, gw.wsUrl, { executors: [g.executor], maxInFlight: 2 });
    const up = connected(agent);
    await agent.start();
    await up;

    const ids = ['cap:1:0', 'cap:2:0', 'cap:3:0', 'cap:4:0', 'cap:5:0'];
    const outcomes = await Promise.all(
      ids.map((requestId) =>
        gw.gateway
          .dispatchAsync({ organizationId: ORG, requestId, kind: 'gated', payload: {}, timeoutMs: 30_000 })
          .catch((e: { code: string }) => e.code),
      ),
    );
    const accepted = ids.filter((_, i) => (outcomes[i] as { dispatched?: boolean }).dispatched);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    await waitFor(() => g.s.gates.size === Math.min(2, accepted.length), { what: 'two running', timeoutMs: 10_000 });
    for (const id of accepted) {
      await waitFor(() => g.s.gates.has(id), { what: `${id} started`, timeoutMs: 10_000 });
      g.s.gates.get(id)!();
    }
    for (const id of accepted)
      await waitFor(() => agent.pendingResults === 0 && agent.inFlight === 0, { what: `${id} done`, timeoutMs: 10_000 });
    expect(g.s.peak).toBe(2);
    for (const id of accepted) expect(await gw.gateway.getResult(id)).toMatchObject({ status: 'succeeded' });

    // Cancel: the gateway's deadline sends `cancel`; the running task is aborted, not left behind.
    const timedOut = await gw.gateway.dispatch({
      organizationId: ORG,
      requestId: 'cancel:1:0',
      kind: 'gated',
      payload: {},
      timeoutMs: 300,
    });
    expect(timedOut).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
    await waitFor(() => g.s.abortCodes.length === 1 && agent.inFlight === 0, { what: 'task aborted', timeoutMs: 10_000 });
    expect(['TASK_CANCELLED', 'NODE_EXECUTION_TIMEOUT']).toContain(g.s.abortCodes[0]);

    // Shutdown: close() aborts what is still running at the drain deadline and delivers that result first.
    await gw.gateway.dispatchAsync({ organizationId: ORG, requestId: 'shutdown:1:0', kind: 'gated', payload: {}, timeoutMs: 30_000 });
    await waitFor(() => g.s.gates.has('shutdown:1:0'), { what: 'task running', timeoutMs: 10_000 });
    await agent.close({ timeoutMs: 500 });
    expect(g.s.abortCodes[1]).toBe('AGENT_SHUTDOWN');
    expect(await gw.gateway.getResult('shutdown:1:0')).toMatchObject({ status: 'failed', error: { code: 'AGENT_SHUTDOWN' } });
    expect(agent.state).toBe('closed');
  });

  it('a busy agent keeps its heartbeat and is not declared stale', async () => {
    const gw = await startRealGateway({ auth, staleMs: 600 });
    closers.push(gw.close);
    const token = newToken();
    auth.set({ token, agentId: 'agent-busy', organizationId: ORG, tags: [] });
    // Each task does real asynchronous work for four stale windows.
    const worker: Executor = {
      kind: 'work',
      async execute(task, ctx) {
        let chunks = 0;
        const end = Date.now() + 2400;
        while (Date.now() < end && !ctx.signal.aborted) {
          await new Promise((r) => setTimeout(r, 20));
          chunks++;
        }
        return { status: 'succeeded', output: { requestId: task.requestId, chunks } };
      },
    };
    const agent = spawn(token, gw.wsUrl, { executors: [worker], maxInFlight: 4 });
    const disconnects: AgentEvents['disconnected'][] = [];
    agent.on('disconnected', (d) => disconnects.push(d));
    const up = connected(agent);
    await agent.start();
    const { sessionId } = await up;
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        gw.gateway.dispatch({ organizationId: ORG, requestId: `busy:${n}:0`, kind: 'work', payload: {}, timeoutMs: 20_000 }),
      ),
    );
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    expect(disconnects).toEqual([]);
    expect(gw.gateway.listSessions().map((s) => s.sessionId)).toEqual([sessionId]);
  });

  describe('connectors through the gateway', () => {
    const GH_SECRET = `ghp_int_canary_${Math.random().toString(36).slice(2)}`;
    let gwClose: () => Promise<void>;
    let dispatch: (requestId: string, payload: unknown, secret?: string) => Promise<unknown>;
    let api: Awaited<ReturnType<typeof localServer>>;
    const logger = capturingLogger();
    const seenAuth: string[] = [];
    let connAgent: Agent;

    beforeAll(async () => {
      api = await localServer((req, body, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.startsWith('/api/v3/')) {
          seenAuth.push(req.headers.authorization ?? '');
          if (req.headers.authorization !== `Bearer ${GH_SECRET}`) {
            res.statusCode = 401;
            return res.end(JSON.stringify({ message: 'Bad credentials' }));
          }
          res.statusCode = 201;
          return res.end(
            JSON.stringify({ id: 1, number: 42, html_url: 'https://gh.local/acme/app/issues/42', url: 'x', title: JSON.parse(body).title }),
          );
        }
        res.end(JSON.stringify({ path: req.url, method: req.method }));
      });
      const gw = await startRealGateway({ auth, logger });
      gwClose = gw.close;
      const token = newToken();
      auth.set({ token, agentId: 'agent-conn', organizationId: ORG, tags: [] });
      const agent = createAgent({
        gatewayWsUrl: gw.wsUrl,
        agentToken: token,
        name: 'conn',
        logger,
        executors: [connectorActionExecutor({ connectors: [httpConnector(), githubConnector({ apiBaseUrl: `${api.url}/api/v3` })] })],
      });
      connAgent = agent;
      const up = connected(agent);
      await agent.start();
      await up;
      dispatch = (requestId, payload, secret) =>
        gw.gateway.dispatch({
          organizationId: ORG,
          requestId,
          kind: 'connector.action',
          payload,
          timeoutMs: 10_000,
          ...(secret ? { secret } : {}),
        });
    });
    afterAll(async () => {
      await connAgent?.close({ timeoutMs: 1000 });
      await gwClose();
      await api.close();
    });

    it('http connector: request against a local HTTP server', async () => {
      const r = await dispatch('conn:http:0', {
        connectorId: 'http',
        actionId: 'request',
        input: { method: 'POST', url: `${api.url}/hello`, body: { a: 1 } },
      });
      expect(r).toMatchObject({ status: 'succeeded', output: { status: 200, json: { path: '/hello', method: 'POST' } } });
    });

    it('github connector: issue.create against a stub that checks the bearer token; the secret stays out of results and logs', async () => {
      const ok = await dispatch(
        'conn:gh:0',
        { connectorId: 'github', actionId: 'issue.create', input: { owner: 'acme', repo: 'app', title: 'T' } },
        GH_SECRET,
      );
      expect(ok).toMatchObject({ status: 'succeeded', output: { number: 42, url: 'https://gh.local/acme/app/issues/42' } });
      const missing = await dispatch('conn:gh:1', {
        connectorId: 'github',
        actionId: 'issue.create',
        input: { owner: 'acme', repo: 'app', title: 'T' },
      });
      expect(missing).toMatchObject({ status: 'failed', error: { code: 'SECRET_REQUIRED' } });
      const wrong = await dispatch(
        'conn:gh:2',
        { connectorId: 'github', actionId: 'issue.create', input: { owner: 'acme', repo: 'app', title: 'T' } },
        'nope-wrong-secret',
      );
      expect(wrong).toMatchObject({ status: 'failed', error: { code: 'GITHUB_API_ERROR' } });
      const unknown = await dispatch('conn:gh:3', { connectorId: 'github', actionId: 'repo.delete', input: {} }, GH_SECRET);
      expect(unknown).toMatchObject({ status: 'failed', error: { code: 'ACTION_NOT_SUPPORTED:github:repo.delete' } });
      expect(seenAuth).toEqual([`Bearer ${GH_SECRET}`, 'Bearer nope-wrong-secret']);
      expect(JSON.stringify([ok, missing, wrong, unknown])).not.toContain(GH_SECRET);
      expect(logger.lines.join('\n')).not.toContain(GH_SECRET);
    });
  });
});
