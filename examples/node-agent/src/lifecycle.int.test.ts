/**
 * The agent's lifecycle as an operator lives it, each step a real `vespid-agent` process (tsx on the
 * sources) against the REAL gateway and a stub control plane: connection feedback while the gateway is
 * down, fail-fast on a wrong WebSocket path, --replace, --ephemeral, --health-port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAgentConfig } from '@vespid/sdk-agent';
import { type AgentHelloInfo, createGateway, type Gateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait-for.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const ORG = 'org-life';
const rand = () => Math.random().toString(36).slice(2);

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function agentProcess(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: PKG,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, output: () => out, exited };
}

describe('vespid-agent lifecycle (real processes, real gateway)', () => {
  const auth = staticAuthenticator([]);
  const hellos: AgentHelloInfo[] = [];
  const deregistered: string[] = [];
  let gateway: Gateway;
  let gwServer: Server;
  let api: Server;
  let target: Server;
  let apiBase: string;
  let wsUrl: string;
  let targetUrl: string;
  let dir: string;
  let pairs = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vespid-life-'));
    gateway = createGateway({ authenticator: auth, serviceToken: 'svc-life-token' });
    gateway.on('agent.connected', (h) => void hellos.push(h));
    gwServer = createServer(gateway.httpHandler);
    gateway.attach(gwServer, { path: '/ws' });
    // What a reverse proxy in front of the gateway answers for an upgrade on any other path.
    gwServer.on('upgrade', (req, socket) => {
      if ((req.url ?? '').split('?')[0] === '/ws') return;
      socket.end(
        'HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"code":"NOT_FOUND","message":"not found"}',
      );
    });
    await new Promise<void>((r) => gwServer.listen(0, '127.0.0.1', r));
    wsUrl = `ws://127.0.0.1:${(gwServer.address() as AddressInfo).port}/ws`;
    // Stub control plane: every pairing token works once; deregistration records the bearer.
    api = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/v1/agents/deregister') {
          const token = String(req.headers.authorization).replace(/^Bearer /, '');
          deregistered.push(token);
          return res.end(JSON.stringify({ agentId: 'x', status: 'revoked' }));
        }
        const agentId = `agent-${++pairs}`;
        const agentToken = `${ORG}.agent_${rand()}_${rand()}`;
        auth.set({ token: agentToken, agentId, organizationId: ORG, tags: [] });
        res.statusCode = 201;
        res.end(JSON.stringify({ agentId, agentToken, organizationId: ORG, gatewayWsUrl: wsUrl }));
        void body;
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiBase = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    target = createServer((_req, res) => res.end('{"pong":true}'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/ping`;
  });

  afterAll(async () => {
    await gateway.close({ timeoutMs: 1000 });
    for (const s of [gwServer, api, target]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await rm(dir, { recursive: true, force: true });
  });

  const savedIdentity = async (name: string, gatewayWsUrl: string) => {
    const configPath = join(dir, name, 'agent.json');
    const agentToken = `${ORG}.agent_${rand()}_${rand()}`;
    auth.set({ token: agentToken, agentId: `saved-${name}`, organizationId: ORG, tags: [] });
    await writeAgentConfig(configPath, {
      agentId: `saved-${name}`,
      agentToken,
      organizationId: ORG,
      gatewayWsUrl,
      apiBase,
      name,
      tags: [],
    });
    return { configPath, agentToken };
  };

  const httpTask = (requestId: string) =>
    gateway.dispatch({
      organizationId: ORG,
      requestId,
      kind: 'connector.action',
      payload: { connectorId: 'http', actionId: 'request', input: { url: targetUrl, method: 'GET' } },
      timeoutMs: 10_000,
    });

  it('while the gateway is down it says "cannot reach <url> (ECONNREFUSED); retrying in Ns (attempt n)" and collapses repeats', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `ws://127.0.0.1:${(closed.address() as AddressInfo).port}/ws`;
    await new Promise<void>((r) => closed.close(() => r()));
    const { configPath } = await savedIdentity('down', deadUrl);
    const p = agentProcess(['start', '--config-path', configPath]);
    try {
      await waitFor(() => /attempt 4; 1 similar line hidden/.test(p.output()), {
        what: 'the fourth attempt line',
        timeoutMs: 30_000,
        detail: () => `output:\n${p.output()}`,
      });
      const out = p.output();
      expect(out).toContain(`connecting to ${deadUrl}`);
      expect(out).toMatch(
        new RegExp(`cannot reach ${deadUrl.replace(/[./]/g, '\\$&')} \\(ECONNREFUSED\\); retrying in [\\d.]+s \\(attempt 1\\)`),
      );
      expect(out).toMatch(/\(attempt 2\)/);
      expect(out).not.toMatch(/\(attempt 3/);
      expect(out).not.toMatch(/code 1006/);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }, 60_000);

  it('HTTP 404 on the WebSocket path fails fast (exit 1) with a hint instead of retrying forever', async () => {
    const { configPath } = await savedIdentity('wrong-path', wsUrl.replace(/\/ws$/, '/not-ws'));
    const p = agentProcess(['start', '--config-path', configPath]);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
    expect(await p.exited).toBe(1);
    clearTimeout(timer);
    expect(p.output()).toMatch(/vespid-agent: the gateway at ws:\/\/127\.0\.0\.1:\d+\/not-ws answered HTTP 404 to the WebSocket upgrade/);
    expect(p.output()).toMatch(/hint: wrong URL or path: the gateway serves agents on \/ws/);
    expect(p.output()).not.toMatch(/retrying/);
  }, 30_000);

  it('--api-base pointing at the (real) gateway fails with the hint to use the control plane, exit 1', async () => {
    const gatewayHttp = wsUrl.replace(/^ws:/, 'http:').replace(/\/ws$/, '');
    const p = agentProcess(['connect', '--config-path', join(dir, 'at-gateway', 'agent.json'), '--api-base', gatewayHttp], {
      VESPID_PAIRING_TOKEN: `${ORG}.pairing_${rand()}_${rand()}`,
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/vespid-agent: pairing failed \(404 NOT_FOUND\)/);
    expect(p.output()).toMatch(/hint: http:\/\/127\.0\.0\.1:\d+ has no Vespid control-plane API: --api-base must be the control plane/);
  }, 30_000);

  it('connect --replace pairs a new identity and deregisters the old one', async () => {
    const { configPath, agentToken: oldToken } = await savedIdentity('replace', wsUrl);
    const p = agentProcess(['connect', '--replace', '--config-path', configPath, '--api-base', apiBase, '--name', 'replacer'], {
      VESPID_PAIRING_TOKEN: `${ORG}.pairing_${rand()}_${rand()}`,
    });
    try {
      await waitFor(() => /connected as replacer \(agent-\d+\)/.test(p.output()), {
        what: 'connected line',
        timeoutMs: 30_000,
        detail: () => `output:\n${p.output()}`,
      });
      expect(deregistered).toContain(oldToken);
      const saved = JSON.parse(await readFile(configPath, 'utf8'));
      expect(saved.agentId).toMatch(/^agent-\d+$/);
      expect(saved.agentToken).not.toBe(oldToken);
      expect(p.output()).toMatch(/replaced agent replace \(saved-replace\): deregistered/);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  }, 30_000);

  it('--ephemeral takes exactly one task, then deregisters, deletes its identity and exits 0', async () => {
    const configPath = join(dir, 'ephemeral', 'agent.json');
    const p = agentProcess(['connect', '--ephemeral', '--config-path', configPath, '--name', 'jit-1'], {
      VESPID_API_BASE: apiBase,
      VESPID_PAIRING_TOKEN: `${ORG}.pairing_${rand()}_${rand()}`,
    });
    await waitFor(() => /connected as jit-1/.test(p.output()), {
      what: 'connected line',
      timeoutMs: 30_000,
      detail: () => `output:\n${p.output()}`,
    });
    const saved = JSON.parse(await readFile(configPath, 'utf8'));
    const hello = hellos.find((h) => h.agentId === saved.agentId);
    expect(hello?.capabilities.maxInFlight).toBe(1);
    const result = await httpTask(`eph:${rand()}:0`);
    expect(result).toMatchObject({ status: 'succeeded', output: { status: 200 } });
    expect(await p.exited).toBe(0);
    expect(deregistered).toContain(saved.agentToken);
    await expect(stat(configPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(p.output()).toMatch(/ephemeral: deregistered jit-1/);
    // Nobody is left to take a second task.
    await expect(httpTask(`eph:${rand()}:1`)).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
  }, 30_000);

  it('--health-port serves /healthz (200 when connected) and Prometheus /metrics with task counters', async () => {
    const { configPath } = await savedIdentity('health', wsUrl);
    const p = agentProcess(['start', '--config-path', configPath], { VESPID_AGENT_HEALTH_PORT: '0' });
    try {
      await waitFor(() => /connected as health/.test(p.output()) && /health: http:\/\/127\.0\.0\.1:\d+\/healthz/.test(p.output()), {
        what: 'health line',
        timeoutMs: 30_000,
        detail: () => `output:\n${p.output()}`,
      });
      const base = /health: (http:\/\/127\.0\.0\.1:\d+)\/healthz/.exec(p.output())![1];
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', state: 'connected' });
      expect(await httpTask(`health:${rand()}:0`)).toMatchObject({ status: 'succeeded' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^vespid_agent_connected 1$/m);
      expect(metrics).toMatch(/^vespid_agent_tasks_total\{status="succeeded"\} 1$/m);
      expect(metrics).toMatch(/^vespid_agent_tasks_running 0$/m);
      expect(metrics).toMatch(/^vespid_agent_reconnects_total 0$/m);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  }, 30_000);
});
