/**
 * Every way an operator gets the agent, each run OUTSIDE the workspace against the real stack (api +
 * gateway + worker on real Postgres and Redis), pairing through the api and running a workflow with a
 * `connector.action` node and an `agent.execute` node in the Docker sandbox:
 *   - the npm tarballs through `npx` (node-agent + its @vespid/* dependencies, packed as published);
 *   - `npm i -g` of the same tarballs (its `vespid-agent` bin);
 *   - the SEA single file, copied alone into an empty directory;
 *   - the container image, built on a locally imported Node base image.
 * The artifacts are built here (pack, `build:agent-binary`, `docker build`): slow, but it is what ships.
 * Figures (sizes, start-to-connected) are printed for the notes.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPool, dropSchema, type Pool } from '../../db/src/index.js';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ApiClient,
  bootstrap,
  type DemoEvent,
  ensureSandboxImages,
  runWorkflow,
  type Stack,
  startStack,
  waitFor,
} from '../../demo/src/index.js';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';

const ROOT = join(import.meta.dirname, '../../..');
const PKG = join(ROOT, 'examples/node-agent');
const SANDBOX_IMAGE = 'vespid/sandbox-busybox:test';
const IMAGE = `vespid/node-agent:it-${randomBytes(4).toString('hex')}`;
const exec = promisify(execFile);
const sh = (cmd: string, args: string[], cwd = ROOT, timeout = 600_000) =>
  exec(cmd, args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: '' } });
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Every directory under `root` whose name is in `names` (nested node_modules included). */
function findDirs(root: string, names: Set<string>): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const p = join(root, entry.name);
    if (names.has(entry.name)) out.push(p);
    else out.push(...findDirs(p, names));
  }
  return out;
}

function duBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) total += duBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function launch(cmd: string, args: string[], options: { cwd: string; env: Record<string, string> }): Running {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    // Own process group: npx does not forward SIGTERM to the bin it runs, so stop() signals the group
    // (what Ctrl-C or a process supervisor does).
    detached: true,
    // Nothing of the workspace: a clean PATH and HOME, and only what the operator would set.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.cwd, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out, exited: new Promise((r) => child.on('close', (code) => r(code))) };
}

await describeWith(['postgres', 'redis', 'docker'], 'node-agent artifacts against the real stack', () => {
  const schema = uniquePrefix('artifacts');
  const scratch = mkdtempSync(join(tmpdir(), 'vespid-artifacts-'));
  const figures: string[] = [];
  const running: Running[] = [];
  let stack: Stack;
  let pool: Pool;
  let api: ApiClient;
  let orgId: string;
  let target: Server;
  let targetUrl: string;
  let tarballs: string[] = [];

  beforeAll(async () => {
    await ensureSandboxImages(ROOT);
    target = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
    stack = await startStack({
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      apiPort: 0,
      gatewayPort: 0,
      serviceToken: randomBytes(24).toString('base64url'),
      kekId: 'artifacts',
      kekBase64: randomBytes(32).toString('base64'),
      bullPrefix: uniquePrefix('bull'),
      env: { NODE_EXEC_TIMEOUT_MS: '30000', API_PAIR_RATE_LIMIT_MAX: '1000', API_RATE_LIMIT_MAX: '100000' },
      logger: pino({ level: 'silent' }),
    });
    pool = createPool(DATABASE_URL, { schema, max: 2 });
    ({ orgId, api } = await bootstrap(pool, stack.apiUrl));

    // Build what ships: the libraries and the CLI, then pack them exactly as `npm publish` would.
    await sh('pnpm', ['--filter', '@vespid/protocol', '--filter', '@vespid/sdk-agent', '--filter', '@vespid/node-agent', 'build']);
    const packDir = join(scratch, 'tarballs');
    mkdirSync(packDir);
    for (const dir of ['packages/protocol', 'packages/sdk-agent', 'examples/node-agent']) {
      await sh('pnpm', ['pack', '--pack-destination', packDir], join(ROOT, dir));
    }
    tarballs = readdirSync(packDir).map((f) => join(packDir, f));
    expect(tarballs).toHaveLength(3);
    await sh('pnpm', ['build:agent-binary']);
    await sh('pnpm', ['--filter', '@vespid/node-agent', 'build:bundle']);
    await sh('docker', ['build', '-q', '--build-arg', 'NODE_IMAGE=vespid/sandbox-node:test', '-t', IMAGE, PKG]);
  }, 900_000);

  afterAll(async () => {
    for (const r of running) {
      try {
        process.kill(-r.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exec('docker', ['rm', '-f', `vespid-agent-${schema}`]).catch(() => {});
    await exec('docker', ['rmi', '-f', IMAGE]).catch(() => {});
    await stack?.close();
    if (pool) await dropSchema(pool, schema).catch(() => {});
    await pool?.end();
    target?.close();
    rmSync(scratch, { recursive: true, force: true });
    process.stdout.write(`\nnode-agent artifact figures:\n  ${figures.join('\n  ')}\n`);
  });

  const pairingToken = async () =>
    (await api.call<{ pairingToken: string }>('POST', `/v1/orgs/${orgId}/agents/pairing-tokens`)).pairingToken;

  /** Runs one artifact until it is online, runs both node kinds on it, stops it; returns connect time. */
  async function exercise(label: string, start: (token: string, env: Record<string, string>) => Running): Promise<void> {
    const name = `${label}-${randomBytes(3).toString('hex')}`;
    const began = Date.now();
    const r = start(await pairingToken(), {
      VESPID_AGENT_NAME: name,
      VESPID_AGENT_TAGS: `group:${name}`,
      VESPID_AGENT_EXEC_BACKEND: 'docker',
      VESPID_AGENT_DOCKER_IMAGE: SANDBOX_IMAGE,
    });
    running.push(r);
    await waitFor(`${label}: connected line`, 120_000, async () => {
      if (r.child.exitCode !== null) throw new Error(`${label} exited ${r.child.exitCode}:\n${r.output()}`);
      return /connected as /.test(r.output()) ? true : undefined;
    });
    const connectedMs = Date.now() - began;
    // The control plane knows the version and the host (hello), and /agents shows it online.
    const agent = await waitFor(`${label}: online with its version`, 30_000, async () => {
      const { agents } = await api.call<{
        agents: Array<{ id: string; name: string; status: string; capabilities: Record<string, unknown> }>;
      }>('GET', `/v1/orgs/${orgId}/agents`);
      return agents.find((a) => a.name === name && a.status === 'online' && a.capabilities.agentVersion === '0.1.0');
    });
    const { rows } = await pool.query(
      'SELECT agent_version, host_os, host_arch, node_version, host_name FROM organization_agents WHERE id = $1',
      [agent.id],
    );
    expect(rows[0]).toMatchObject({ agent_version: '0.1.0', host_os: 'linux', host_arch: 'x64', node_version: process.versions.node });
    const dsl = {
      version: 1,
      trigger: { type: 'trigger.manual' },
      nodes: [
        {
          id: 'call',
          type: 'connector.action',
          config: {
            connectorId: 'http',
            actionId: 'request',
            input: { method: 'GET', url: `${targetUrl}/${label}` },
            execution: { mode: 'node', selector: { agentId: agent.id } },
          },
        },
        {
          id: 'script',
          type: 'agent.execute',
          config: {
            task: { type: 'shell', script: `echo "sandboxed ${label}"; echo ok > /work/out.txt; cat /work/out.txt` },
            sandbox: { timeoutMs: 20_000 },
            execution: { mode: 'node', selector: { agentId: agent.id } },
          },
        },
      ],
    };
    const run = await runWorkflow(api, orgId, dsl, 90_000);
    const done = run.events.filter((e: DemoEvent) => e.type === 'node_succeeded' || e.type === 'node_failed');
    expect(run.status, `${label}:\n${JSON.stringify(run.events)}\n${r.output()}`).toBe('succeeded');
    expect(done.map((e) => [e.nodeId, e.type])).toEqual([
      ['call', 'node_succeeded'],
      ['script', 'node_succeeded'],
    ]);
    expect(JSON.stringify(done[1]!.payload)).toContain(`sandboxed ${label}`);
    figures.push(`${label}: start-to-connected ${connectedMs} ms`);
  }

  /** SIGTERM to the group; under npx the exit status is npx's own, so the agent's last line says it. */
  const stop = async (r: Running, via: 'direct' | 'npx' = 'direct') => {
    process.kill(-r.child.pid!, 'SIGTERM');
    const code = await r.exited;
    if (via === 'direct') expect(code).toBe(0);
    expect(r.output()).toMatch(/agent stopped/);
  };

  it('npx of the packed tarballs, in an empty directory outside the workspace', async () => {
    const dir = mkdtempSync(join(scratch, 'npx-'));
    const pkgs = tarballs.flatMap((t) => ['--package', t]);
    const version = await exec('npx', ['--yes', ...pkgs, 'vespid-agent', '--version'], { cwd: dir, env: { ...process.env, HOME: dir } });
    expect(version.stdout.trim()).toBe('0.1.0');
    await exercise('npx', (token, env) => {
      const r = launch('npx', ['--yes', ...pkgs, 'vespid-agent', 'connect', '--api-base', stack.apiUrl], {
        cwd: dir,
        env: { ...env, VESPID_PAIRING_TOKEN: token, npm_config_cache: join(process.env.HOME ?? '/root', '.npm') },
      });
      return r;
    });
    await stop(running.at(-1)!, 'npx');
  }, 300_000);

  it('npm i -g of the packed tarballs: the vespid-agent bin, status and remove; dockerode only when asked for', async () => {
    const prefix = mkdtempSync(join(scratch, 'global-'));
    await exec('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', ...tarballs], { cwd: prefix, timeout: 300_000 });
    const bin = join(prefix, 'bin', 'vespid-agent');
    const modules = join(prefix, 'lib', 'node_modules');
    const dockerDirs = findDirs(
      modules,
      new Set(['dockerode', 'docker-modem', 'ssh2', 'cpu-features', 'tar-fs', '@grpc', 'protobufjs', 'asn1', 'bcrypt-pbkdf']),
    );
    const dockerBytes = dockerDirs.reduce((n, d) => n + duBytes(d), 0);
    figures.push(
      `npm i -g install size: ${mib(duBytes(modules))} in node_modules, of which ${mib(dockerBytes)} is dockerode and its dependencies (an optional dependency of @vespid/node-agent)`,
    );
    const home = mkdtempSync(join(scratch, 'home-'));
    const plainEnv = { PATH: process.env.PATH ?? '', HOME: home };
    await exercise('global', (token, env) => {
      writeFileSync(join(home, 'token'), `${token}\n`);
      return launch(bin, ['connect', '--pairing-token-file', join(home, 'token'), '--api-base', stack.apiUrl], { cwd: home, env });
    });
    await stop(running.at(-1)!);

    // Without dockerode a connector-only agent still runs; asking for the sandbox names the package.
    for (const d of dockerDirs.filter((d) => d.endsWith('/dockerode'))) rmSync(d, { recursive: true, force: true });
    const connectorOnly = launch(bin, ['start'], { cwd: home, env: {} });
    running.push(connectorOnly);
    await waitFor('connector-only start without dockerode', 60_000, async () => {
      if (connectorOnly.child.exitCode !== null) throw new Error(`exited ${connectorOnly.child.exitCode}:\n${connectorOnly.output()}`);
      return /connected as global-/.test(connectorOnly.output()) ? true : undefined;
    });
    await stop(connectorOnly);
    const docker = await exec(bin, ['start'], { cwd: home, env: { ...plainEnv, VESPID_AGENT_EXEC_BACKEND: 'docker' } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(docker).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('VESPID_AGENT_EXEC_BACKEND=docker needs the dockerode package'),
    });
    expect((docker as { stderr: string }).stderr).toMatch(/hint: install it next to the agent \(`npm i -g dockerode`/);

    const status = await exec(bin, ['status', '--json'], { cwd: home, env: plainEnv });
    const s = JSON.parse(status.stdout);
    expect(s).toMatchObject({ version: '0.1.0', gatewayWsUrl: stack.gatewayWsUrl });
    expect(s.lastConnectedAt).toEqual(expect.any(String));
    const removed = await exec(bin, ['remove'], { cwd: home, env: plainEnv });
    expect(removed.stdout).toMatch(/deregistered agent global-/);
    const { agents } = await api.call<{ agents: Array<{ id: string; status: string }> }>(
      'GET',
      `/v1/orgs/${orgId}/agents?includeRevoked=true`,
    );
    expect(agents.find((a) => a.id === s.agentId)?.status).toBe('revoked');
  }, 300_000);

  it('the SEA single file, alone in an empty directory: --version, pair, connector.action and agent.execute', async () => {
    const dir = mkdtempSync(join(scratch, 'sea-'));
    const bin = join(dir, 'vespid-agent');
    copyFileSync(join(PKG, 'dist', 'vespid-agent'), bin);
    await exec('chmod', ['+x', bin]);
    expect(readdirSync(dir)).toEqual(['vespid-agent']);
    const t0 = Date.now();
    const v = await exec(bin, ['--version'], { cwd: dir, env: { PATH: '/usr/bin:/bin', HOME: dir } });
    figures.push(`SEA binary: ${mib(statSync(bin).size)}; --version in ${Date.now() - t0} ms`);
    expect(v.stdout.trim()).toBe('0.1.0');
    expect(v.stderr).toBe('');
    await exercise('sea', (token, env) =>
      launch(bin, ['connect', '--api-base', stack.apiUrl], {
        cwd: dir,
        env: { ...env, VESPID_PAIRING_TOKEN: token, PATH: '/usr/bin:/bin' },
      }),
    );
    await stop(running.at(-1)!);
  }, 300_000);

  it('the container image: token from a secret file, identity in the volume, Docker socket for the sandbox; a restart reuses the identity', async () => {
    const secrets = mkdtempSync(join(scratch, 'secrets-'));
    const workdir = mkdtempSync(join(scratch, 'workdir-'));
    await exec('chmod', ['0777', workdir, secrets]);
    const sockGid = statSync('/var/run/docker.sock').gid;
    const volume = `vespid-agent-${schema}`;
    const container = `vespid-agent-${schema}`;
    const dockerArgs = (env: Record<string, string>) => [
      'run',
      '--rm',
      '--name',
      container,
      '--network',
      'host',
      '-v',
      `${volume}:/var/lib/vespid-agent`,
      '-v',
      `${secrets}:/run/secrets:ro`,
      '-v',
      '/var/run/docker.sock:/var/run/docker.sock',
      '--group-add',
      String(sockGid),
      // Same path on both sides: the daemon resolves the sandbox's bind mounts on the host.
      '-v',
      `${workdir}:${workdir}`,
      '-e',
      `VESPID_AGENT_WORKDIR_ROOT=${workdir}`,
      '-e',
      `VESPID_API_BASE=${stack.apiUrl}`,
      '-e',
      'VESPID_PAIRING_TOKEN_FILE=/run/secrets/vespid_pairing_token',
      '-e',
      'VESPID_AGENT_LOG_FORMAT=pretty',
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      IMAGE,
    ];
    try {
      await exercise('container', (token, env) => {
        writeFileSync(join(secrets, 'vespid_pairing_token'), `${token}\n`);
        return launch('docker', dockerArgs(env), { cwd: scratch, env: {} });
      });
      await exec('docker', ['stop', '-t', '40', container]);
      expect(await running.at(-1)!.exited).toBe(0);
      // The token file now holds a spent token: a second start must reuse the saved identity.
      const again = launch('docker', dockerArgs({}), { cwd: scratch, env: {} });
      running.push(again);
      await waitFor('container restart: connected', 60_000, async () => {
        if (again.child.exitCode !== null) throw new Error(`restart exited ${again.child.exitCode}:\n${again.output()}`);
        return /connected as container-/.test(again.output()) ? true : undefined;
      });
      expect(again.output()).not.toMatch(/pairing with the control plane/);
      await exec('docker', ['stop', '-t', '40', container]);
      await again.exited;
    } finally {
      // A failed wait leaves the container running, and a volume in use cannot be removed.
      await exec('docker', ['rm', '-f', container]).catch(() => {});
      await exec('docker', ['volume', 'rm', '-f', volume]).catch(() => {});
    }
  }, 300_000);
});
