import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { writeAgentConfig } from '@vespid/sdk-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { FLAG_ENV } from './env-options.js';
import { statePathFor, updateAgentState } from './identity.js';
import { runCli } from './run-cli.js';
import { NODE_AGENT_VERSION } from './version.js';

function io(env: Record<string, string | undefined> = {}, stdin?: NodeJS.ReadableStream) {
  const out: string[] = [];
  const err: string[] = [];
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  return {
    io: { env, out: (s: string) => out.push(s), err: (s: string) => err.push(s), logDestination, ...(stdin ? { stdin } : {}) },
    out,
    err,
    logs,
  };
}

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function server(handler: Handler) {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: async () => {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

const CANARY = 'org1.pairing_canary_abcdefghijklmnop';

describe('vespid-agent CLI (in-process)', () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof server>>;
  let gatewayLike: Awaited<ReturnType<typeof server>>;
  const pairBodies: Array<Record<string, unknown>> = [];
  const deregistered: string[] = [];
  let deregisterDown = false;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vespid-cli-'));
    // A control plane that refuses every pairing token the way the api does (used / expired).
    api = await server((req, body, res) => {
      if (req.url === '/v1/agents/deregister') {
        if (deregisterDown) {
          res.statusCode = 503;
          return res.end(JSON.stringify({ code: 'INTERNAL_ERROR', message: 'down' }));
        }
        deregistered.push(String(req.headers.authorization));
        return res.end(JSON.stringify({ agentId: 'a-1', status: 'revoked' }));
      }
      const b = JSON.parse(body || '{}');
      pairBodies.push(b);
      if (String(b.pairingToken).includes('expired')) {
        res.statusCode = 400;
        return res.end(JSON.stringify({ code: 'PAIRING_TOKEN_EXPIRED', message: 'pairing token expired' }));
      }
      res.statusCode = 401;
      res.end(JSON.stringify({ code: 'PAIRING_TOKEN_INVALID', message: 'pairing token is unknown, expired or already used' }));
    });
    // What the gateway answers on its HTTP port for routes it does not have.
    gatewayLike = await server((_req, _body, res) => {
      res.statusCode = 404;
      res.end(JSON.stringify({ code: 'NOT_FOUND', message: 'not found' }));
    });
  });
  afterAll(async () => {
    await api.close();
    await gatewayLike.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('--version prints the package version', async () => {
    expect(NODE_AGENT_VERSION).toBe(pkg.version);
    const t = io();
    expect(await runCli(['--version'], t.io)).toBe(0);
    expect(t.out.join('')).toBe(`${pkg.version}\n`);
  });

  it('--help of each command names every flag with its environment variable', async () => {
    const seen = new Set<string>();
    for (const cmd of [['connect'], ['start'], ['remove'], ['status'], ['rotate'], ['service', 'install']]) {
      const t = io();
      expect(await runCli([...cmd, '--help'], t.io)).toBe(0);
      const help = t.out.join('').replace(/\s+/g, ' ');
      for (const [flag, env] of Object.entries(FLAG_ENV)) {
        if (help.includes(`${flag} `)) {
          expect(help, `${cmd.join(' ')} ${flag}`).toContain(`env ${env}`);
          seen.add(flag);
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(FLAG_ENV).sort());
    const top = io();
    expect(await runCli(['--help'], top.io)).toBe(0);
    for (const text of [
      'VESPID_AGENT_EXEC_BACKEND',
      'VESPID_AGENT_TLS_CA_FILE',
      'HTTPS_PROXY',
      'Exit codes: 0 done, 1 failure',
      '2 usage error',
    ]) {
      expect(top.out.join('')).toContain(text);
    }
  });

  it.each([
    [['connect', '--pairing-token', 't', '--api-base', 'http://x', '--bogus'], {}, /unknown option '--bogus'/],
    [
      ['connect', '--api-base', 'http://x'],
      {},
      /missing pairing token: pass --pairing-token <token>, set VESPID_PAIRING_TOKEN, or --pairing-token-file/,
    ],
    [['connect', '--pairing-token', 't'], {}, /missing --api-base <url> \(or VESPID_API_BASE\)/],
    [['connect', '--pairing-token', 't', '--pairing-token-file', '/x', '--api-base', 'http://x'], {}, /give the pairing token once/],
    [
      ['connect', '--pairing-token-file', '/nonexistent/token', '--api-base', 'http://x'],
      {},
      /cannot read --pairing-token-file \/nonexistent\/token: ENOENT/,
    ],
    [['start', '--max-in-flight', 'lots'], {}, /--max-in-flight.*integer from 1 to 10000/],
    [['start'], { VESPID_AGENT_MAX_IN_FLIGHT: 'lots' }, /VESPID_AGENT_MAX_IN_FLIGHT="lots": must be an integer/],
    [['start'], { VESPID_AGENT_LOG_LEVEL: 'loud' }, /VESPID_AGENT_LOG_LEVEL="loud": must be one of debug, info, warn, error/],
    [['start'], { VESPID_AGENT_EPHEMERAL: 'maybe' }, /VESPID_AGENT_EPHEMERAL="maybe": must be true or false/],
    [['start', '--tags', 'has space'], {}, /invalid tag/],
    [['frobnicate'], {}, /unknown command 'frobnicate'/],
  ])('a usage error prints one line and exits 2: %j %j', async (argv, env, message) => {
    const t = io(env as Record<string, string>);
    expect(await runCli(argv as string[], t.io)).toBe(2);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(message as RegExp);
    expect(t.err[0]).toMatch(/^vespid-agent: [^\n]*\n$/);
  });

  it.each([
    ['used (401)', CANARY, /pairing failed \(401 PAIRING_TOKEN_INVALID\)/],
    ['expired (400)', 'org1.expired_canary_abcdefghijklmnop', /pairing failed \(400 PAIRING_TOKEN_EXPIRED\)/],
  ])(
    'a %s pairing token exits 1 with the code and "create a new one on the /agents page", never the token',
    async (_what, token, message) => {
      const t = io();
      const code = await runCli(
        ['--', 'connect', '--pairing-token', token, '--api-base', api.url, '--config-path', join(dir, 'a.json')],
        t.io,
      );
      expect(code).toBe(1);
      expect(t.err).toHaveLength(1);
      expect(t.err[0]).toMatch(message);
      expect(t.err[0]).toMatch(/\n {2}hint: .*create a new one on the \/agents page\n$/);
      expect([...t.err, ...t.out, ...t.logs].join('')).not.toContain(token.split('.')[1]);
    },
  );

  it('--api-base pointing at the gateway (404 on the pairing route) says so', async () => {
    const t = io();
    expect(
      await runCli(['connect', '--pairing-token', CANARY, '--api-base', gatewayLike.url, '--config-path', join(dir, 'gw.json')], t.io),
    ).toBe(1);
    expect(t.err[0]).toMatch(/pairing failed \(404 NOT_FOUND\)/);
    expect(t.err[0]).toMatch(/hint: .* --api-base must be the control plane \(the api, e\.g\. http:\/\/localhost:3001\), not the gateway/);
  });

  it('https:// against a plain-HTTP control plane blames the control plane, not the gateway', async () => {
    const t = io();
    const apiBase = api.url.replace('http:', 'https:');
    expect(await runCli(['connect', '--pairing-token', CANARY, '--api-base', apiBase, '--config-path', join(dir, 'tls.json')], t.io)).toBe(
      1,
    );
    expect(t.err[0]).toMatch(/the control plane at https:\/\/127\.0\.0\.1:\d+ does not speak TLS/);
    expect(t.err[0]).toMatch(new RegExp(`hint: use ${api.url}`));
    expect(t.err[0]).not.toMatch(/GATEWAY/);
  });

  it('an unreachable control plane says CONTROL_PLANE_UNREACHABLE with the URL', async () => {
    const t = io();
    expect(
      await runCli(['connect', '--pairing-token', CANARY, '--api-base', 'http://127.0.0.1:1', '--config-path', join(dir, 'u.json')], t.io),
    ).toBe(1);
    expect(t.err[0]).toMatch(/cannot reach the control plane at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\) \[CONTROL_PLANE_UNREACHABLE\]/);
  });

  it('takes the pairing token from VESPID_PAIRING_TOKEN, from a file and from stdin', async () => {
    const before = pairBodies.length;
    const env = { VESPID_API_BASE: api.url, VESPID_AGENT_CONFIG_PATH: join(dir, 'env.json') };
    expect(await runCli(['connect'], io({ ...env, VESPID_PAIRING_TOKEN: 'org1.from_env_abcdefghijklmnop' }).io)).toBe(1);
    const file = join(dir, 'token');
    await writeFile(file, '\norg1.from_file_abcdefghijklmnop\n');
    expect(await runCli(['connect', '--pairing-token-file', file], io(env).io)).toBe(1);
    expect(await runCli(['connect'], io({ ...env, VESPID_PAIRING_TOKEN_FILE: file }).io)).toBe(1);
    const stdin = new PassThrough();
    stdin.end('org1.from_stdin_abcdefghijklmnop\n');
    expect(await runCli(['connect', '--pairing-token-file', '-'], io(env, stdin).io)).toBe(1);
    expect(pairBodies.slice(before).map((b) => b.pairingToken)).toEqual([
      'org1.from_env_abcdefghijklmnop',
      'org1.from_file_abcdefghijklmnop',
      'org1.from_file_abcdefghijklmnop',
      'org1.from_stdin_abcdefghijklmnop',
    ]);
  });

  it('refuses an unknown VESPID_AGENT_EXEC_BACKEND before pairing', async () => {
    const t = io({ VESPID_AGENT_EXEC_BACKEND: 'host' });
    expect(
      await runCli(
        ['connect', '--pairing-token', 'org1.x_abcdefghijklmnopqr', '--api-base', api.url, '--config-path', join(dir, 'h.json')],
        t.io,
      ),
    ).toBe(1);
    expect(t.err[0]).toMatch(/VESPID_AGENT_EXEC_BACKEND=host is not supported/);
  });

  describe('with a saved identity', () => {
    const saved = async (name: string) => {
      const configPath = join(dir, name, 'agent.json');
      await writeAgentConfig(configPath, {
        agentId: 'a-1',
        agentToken: 'org1.agent_canary_abcdefghijklmnop',
        organizationId: 'org1',
        gatewayWsUrl: 'ws://127.0.0.1:9/ws',
        apiBase: api.url,
        name: 'edge-1',
        tags: ['east', 'group:alpha'],
      });
      return configPath;
    };

    it('connect refuses to overwrite it (exit 1, hint names start/remove/--replace) and never spends the pairing token', async () => {
      const configPath = await saved('refuse');
      const before = pairBodies.length;
      const t = io();
      expect(await runCli(['connect', '--pairing-token', CANARY, '--api-base', api.url, '--config-path', configPath], t.io)).toBe(1);
      expect(t.err[0]).toMatch(/an agent identity already exists at .*refuse\/agent\.json \(agent edge-1, a-1\)/);
      expect(t.err[0]).toMatch(/hint: `vespid-agent start` runs it; `vespid-agent remove` deregisters it; `connect --replace`/);
      expect(pairBodies.length).toBe(before);
      expect(JSON.parse(await readFile(configPath, 'utf8')).agentId).toBe('a-1');
    });

    it('status prints identity, gateway, tags, version and last connection, without the token', async () => {
      const configPath = await saved('status');
      const never = io();
      expect(await runCli(['status', '--config-path', configPath], never.io)).toBe(0);
      expect(never.out.join('')).toMatch(/last connection\s+never/);
      await updateAgentState(configPath, { lastConnectedAt: '2026-12-04T10:00:00.000Z', agentVersion: '0.0.9' });
      expect((await stat(statePathFor(configPath))).mode & 0o777).toBe(0o600);
      const t = io();
      expect(await runCli(['status', '--config-path', configPath], t.io)).toBe(0);
      const text = t.out.join('');
      expect(text).toMatch(/agent\s+edge-1 \(a-1\)/);
      expect(text).toMatch(/gateway\s+ws:\/\/127\.0\.0\.1:9\/ws/);
      expect(text).toMatch(/tags\s+east, group:alpha/);
      expect(text).toMatch(new RegExp(`version\\s+${NODE_AGENT_VERSION} \\(last run with 0\\.0\\.9\\)`));
      expect(text).toMatch(/last connection\s+2026-12-04T10:00:00\.000Z/);
      expect(text).not.toContain('agent_canary');
      const j = io();
      expect(await runCli(['status', '--config-path', configPath, '--json'], j.io)).toBe(0);
      expect(JSON.parse(j.out.join(''))).toMatchObject({
        agentId: 'a-1',
        tags: ['east', 'group:alpha'],
        lastConnectedAt: '2026-12-04T10:00:00.000Z',
      });
      const none = io();
      expect(await runCli(['status', '--config-path', join(dir, 'none.json')], none.io)).toBe(1);
      expect(none.err[0]).toMatch(/no agent identity at .*none\.json\n {2}hint: pair one: vespid-agent connect/);
    });

    it('remove deregisters with the agent token and deletes config and state', async () => {
      const configPath = await saved('remove');
      await updateAgentState(configPath, { lastConnectedAt: new Date().toISOString() });
      const t = io();
      expect(await runCli(['remove', '--config-path', configPath], t.io)).toBe(0);
      expect(deregistered.at(-1)).toBe('Bearer org1.agent_canary_abcdefghijklmnop');
      expect(t.out.join('')).toMatch(/deregistered agent edge-1 \(a-1\)/);
      await expect(stat(configPath)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(statePathFor(configPath))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(t.out.join('')).not.toContain('agent_canary');
    });

    it('remove keeps the identity when the control plane fails, unless --force', async () => {
      const configPath = await saved('remove-down');
      deregisterDown = true;
      try {
        const t = io();
        expect(await runCli(['remove', '--config-path', configPath], t.io)).toBe(1);
        expect(t.err[0]).toMatch(/cannot deregister agent a-1: deregistration failed \(503 INTERNAL_ERROR\)/);
        expect(t.err[0]).toMatch(/hint: .*--force deletes it anyway/);
        expect((await stat(configPath)).isFile()).toBe(true);
        const f = io({ VESPID_AGENT_REMOVE_FORCE: 'true' });
        expect(await runCli(['remove', '--config-path', configPath], f.io)).toBe(0);
        expect(f.out.join('')).toMatch(/revoke a-1 on the \/agents page/);
        await expect(stat(configPath)).rejects.toMatchObject({ code: 'ENOENT' });
      } finally {
        deregisterDown = false;
      }
    });
  });
});
