/**
 * The runbook command, spawned for real, against a stub control plane and the REAL gateway:
 *   pnpm --filter @vespid/node-agent dev -- connect --pairing-token <token> --api-base <url> --tags "east,group:alpha"
 * HOME points at a temp dir so the default ~/.vespid/agent.json is exercised.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AgentHelloInfo, createGateway, type Gateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { writeAgentConfig } from '@vespid/sdk-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { NODE_AGENT_VERSION } from './version.js';
import { waitFor } from '../../../test/support/wait-for.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const ORG = 'org-cli';
const AGENT_TOKEN = `${ORG}.agent_cli_canary_${Math.random().toString(36).slice(2)}`;
const PAIRING_TOKEN = `${ORG}.pairing_cli_canary_${Math.random().toString(36).slice(2)}`;

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Proc {
  // Own process group, so a test can signal the whole tree the way Ctrl-C in a terminal does.
  const child = spawn('pnpm', args, {
    cwd: ROOT,
    env: {
      ...process.env,
      // Whatever the outer environment says, the test controls the agent's configuration.
      VESPID_AGENT_EXEC_BACKEND: '',
      VESPID_AGENT_CONFIG_PATH: '',
      VESPID_AGENT_TAGS: '',
      VESPID_API_BASE: '',
      HTTPS_PROXY: '',
      HTTP_PROXY: '',
      https_proxy: '',
      http_proxy: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  // 'close': every process holding the pipes (pnpm, tsx, the agent) is gone.
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, output: () => out, exited };
}

function ownLines(output: string): string {
  return output
    .split('\n')
    .filter((l) => !l.startsWith('> ') && !l.includes('ERR_PNPM') && !l.startsWith('/work'))
    .join('\n');
}

describe('vespid-agent CLI as the runbook runs it', () => {
  const auth = staticAuthenticator([]);
  const hellos: AgentHelloInfo[] = [];
  let gateway: Gateway;
  let gwServer: Server;
  let api: Server;
  let apiBase: string;
  let home: string;
  let pairCalls = 0;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'vespid-home-'));
    gateway = createGateway({ authenticator: auth, serviceToken: 'svc-cli-test-token' });
    gateway.on('agent.connected', (h) => void hellos.push(h));
    gwServer = createServer(gateway.httpHandler);
    gateway.attach(gwServer, { path: '/ws' });
    await new Promise<void>((r) => gwServer.listen(0, '127.0.0.1', r));
    const wsUrl = `ws://127.0.0.1:${(gwServer.address() as AddressInfo).port}/ws`;
    api = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        const b = JSON.parse(body || '{}');
        if (req.url !== '/v1/agents/pair' || b.pairingToken !== PAIRING_TOKEN || pairCalls > 0) {
          res.statusCode = 401;
          return res.end(JSON.stringify({ code: 'PAIRING_TOKEN_INVALID', message: 'pairing token unknown, expired or already used' }));
        }
        pairCalls++;
        auth.set({ token: AGENT_TOKEN, agentId: 'agent-cli', organizationId: ORG, tags: b.tags ?? [] });
        res.statusCode = 201;
        res.end(JSON.stringify({ agentId: 'agent-cli', agentToken: AGENT_TOKEN, organizationId: ORG, gatewayWsUrl: wsUrl }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiBase = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await gateway.close({ timeoutMs: 1000 });
    for (const s of [gwServer, api]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await rm(home, { recursive: true, force: true });
  });

  it('connect pairs, saves ~/.vespid/agent.json (0600), says hello with the tags, and drains on Ctrl-C (SIGINT to the process group)', async () => {
    const p = run(
      [
        '--filter',
        '@vespid/node-agent',
        'dev',
        '--',
        'connect',
        '--pairing-token',
        PAIRING_TOKEN,
        '--api-base',
        apiBase,
        '--tags',
        'east,group:alpha',
      ],
      {
        HOME: home,
      },
    );
    await waitFor(() => hellos.length === 1, { what: 'hello', timeoutMs: 30_000, detail: () => `output:\n${p.output()}` });
    expect(hellos[0]).toMatchObject({
      agentId: 'agent-cli',
      organizationId: ORG,
      capabilities: {
        kinds: ['connector.action', 'agent.execute'],
        connectors: ['http', 'github'],
        tags: ['east', 'group:alpha'],
        maxInFlight: 10,
      },
      agentVersion: NODE_AGENT_VERSION,
      host: { os: process.platform, arch: process.arch, hostname: hostname(), nodeVersion: process.versions.node },
    });
    const path = join(home, '.vespid', 'agent.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, '.vespid'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      agentId: 'agent-cli',
      agentToken: AGENT_TOKEN,
      tags: ['east', 'group:alpha'],
      apiBase,
    });
    // agent.execute without a backend fails clearly instead of pretending.
    const exec = await gateway.dispatch({
      organizationId: ORG,
      requestId: 'cli:exec:0',
      kind: 'agent.execute',
      payload: { task: { type: 'shell', script: 'id' } },
    });
    expect(exec).toMatchObject({ status: 'failed', error: { code: 'SANDBOX_BACKEND_NOT_CONFIGURED' } });

    await waitFor(() => p.output().includes('connected as '), {
      what: 'connected log line',
      timeoutMs: 30_000,
      detail: () => `output:\n${p.output()}`,
    });
    expect(ownLines(p.output())).toMatch(/connecting to ws:\/\/127\.0\.0\.1:\d+\/ws/);
    expect(ownLines(p.output())).toMatch(/connected as [^ ]+ \(agent-cli\), tags east, group:alpha/);
    process.kill(-p.child.pid!, 'SIGINT');
    await p.exited;
    // pnpm itself echoes the script's argv ("> tsx src/cli.ts -- connect --pairing-token …"); only the
    // agent's own lines are ours to keep clean.
    const out = ownLines(p.output());
    expect(out).toMatch(/stopping: finishing running tasks/);
    expect(out).toMatch(/agent stopped/);
    expect(out).not.toContain(AGENT_TOKEN.split('.')[1]);
    expect(out).not.toContain(PAIRING_TOKEN.split('.')[1]);
  }, 60_000);

  it('in-process runCli: --name, --max-in-flight and --tags reach hello; a stop request drains and exits 0', async () => {
    const token = `${ORG}.agent_inproc_${Math.random().toString(36).slice(2)}_abc`;
    auth.set({ token, agentId: 'agent-inproc', organizationId: ORG, tags: [] });
    const configPath = join(home, 'inproc', 'agent.json');
    const wsUrl = `ws://127.0.0.1:${(gwServer.address() as AddressInfo).port}/ws`;
    await writeAgentConfig(configPath, {
      agentId: 'agent-inproc',
      agentToken: token,
      organizationId: ORG,
      gatewayWsUrl: wsUrl,
      apiBase,
      name: 'saved',
      tags: [],
    });
    let stop: ((signal: string) => void) | undefined;
    const logs: string[] = [];
    const { Writable } = await import('node:stream');
    const code = runCli(
      ['start', '--config-path', configPath, '--name', 'custom', '--max-in-flight', '3', '--tags', 'west,group:beta', '--json'],
      {
        env: {},
        out: () => {},
        err: (s) => logs.push(s),
        logDestination: new Writable({
          write(c, _e, cb) {
            logs.push(String(c));
            cb();
          },
        }),
        onSignal: (fn) => {
          stop = fn;
          return () => {};
        },
      },
    );
    await waitFor(() => hellos.some((h) => h.agentId === 'agent-inproc'), {
      what: 'in-process hello',
      timeoutMs: 30_000,
      detail: () => `output:\n${logs.join('')}`,
    });
    expect(hellos.find((h) => h.agentId === 'agent-inproc')).toMatchObject({
      name: 'custom',
      capabilities: { maxInFlight: 3, tags: ['west', 'group:beta'] },
    });
    await waitFor(() => stop !== undefined, {
      what: 'signal handler installed',
      timeoutMs: 30_000,
      detail: () => `output:\n${logs.join('')}`,
    });
    stop!('SIGTERM');
    expect(await code).toBe(0);
    for (const line of logs.filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line)).not.toThrow();
    expect(logs.join('')).not.toContain(token.split('.')[1]);
  });

  it('start reuses the saved config without pairing again, and a revoked agent exits 1 with a clear line', async () => {
    const p = run(['--filter', '@vespid/node-agent', 'dev', '--', 'start', '--json'], { HOME: home });
    await waitFor(() => hellos.length === 2, { what: 'second hello', timeoutMs: 30_000, detail: () => `output:\n${p.output()}` });
    expect(pairCalls).toBe(1);
    // --json: every log line is JSON.
    await waitFor(() => p.output().includes('"connected as '), {
      what: 'connected log',
      timeoutMs: 30_000,
      detail: () => `output:\n${p.output()}`,
    });
    auth.revoke('agent-cli');
    gateway.revokeAgent('agent-cli');
    expect(await p.exited).not.toBe(0);
    const out = ownLines(p.output());
    expect(out).toMatch(/vespid-agent: gateway closed the session with 4403 Revoked.*the agent has been revoked; pair the agent again/);
    expect(out).not.toContain(AGENT_TOKEN.split('.')[1]);
  }, 60_000);
});
