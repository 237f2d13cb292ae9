/**
 * The built images run the runbook's workflow: builds vespid/{gateway,api,worker}:test on the locally
 * imported Node base image (scripts/build-host-images.sh), starts them with `docker run` against this
 * machine's Postgres and Redis (host network: no registry here to pull postgres/redis images for
 * compose.yaml), pairs a node-agent with the runbook's command, runs a workflow whose node runs on the
 * agent, and stops every container with SIGTERM (each must drain and exit 0).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Pool, createPool, dropSchema } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import {
  type AgentProcess,
  ApiClient,
  type SampleService,
  bootstrap,
  runWorkflow,
  sampleWorkflow,
  spawnAgent,
  startSampleService,
} from '../src/index.js';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const docker = (...args: string[]) => run('docker', args, { maxBuffer: 64 * 1024 * 1024 });

await describeWith(['docker', 'postgres', 'redis'], 'host images (docker run) through the runbook workflow', () => {
  const schema = uniquePrefix('img').toLowerCase();
  const SERVICE_TOKEN = `svc-${randomBytes(12).toString('hex')}`;
  const KEK = randomBytes(32).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'vespid-images-'));
  const containers: Record<string, string> = {};
  let pool: Pool;
  let service: SampleService;
  let agent: AgentProcess | undefined;
  const ports = { api: 0, gateway: 0, internal: 0, metrics: 0 };

  const logsOf = async (name: string) => {
    const { stdout, stderr } = await docker('logs', containers[name]!);
    return stdout + stderr;
  };

  beforeAll(async () => {
    await run('bash', [`${root}scripts/build-host-images.sh`], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    pool = createPool(DATABASE_URL, { schema });
    service = await startSampleService();
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
    const common = {
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL,
      // Its own Redis namespace: this stack shares the machine's Redis with every other test.
      VESPID_REDIS_PREFIX: schema,
      GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
      GATEWAY_HTTP_URL: `http://127.0.0.1:${ports.internal}`,
      GATEWAY_WS_URL: `ws://127.0.0.1:${ports.gateway}/ws`,
      SECRETS_KEK_ID: 'img-kek',
      SECRETS_KEK_BASE64: KEK,
    };
    const start = async (name: string, env: Record<string, string>) => {
      const envArgs = Object.entries({ ...common, ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      const { stdout } = await docker('run', '-d', '--network', 'host', '--name', `${schema}-${name}`, ...envArgs, `vespid/${name}:test`);
      containers[name] = stdout.trim();
    };
    // The api migrates first; the others would race it harmlessly (advisory lock) but start after it.
    await start('api', { API_HOST: '127.0.0.1', API_PORT: String(ports.api) });
    await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${ports.api}/health`)).status).toBe(200), {
      timeout: 60_000,
      interval: 250,
    });
    await start('gateway', {
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(ports.gateway),
      GATEWAY_INTERNAL_PORT: String(ports.internal),
    });
    await start('worker', {
      WORKFLOW_METRICS_HOST: '127.0.0.1',
      WORKFLOW_METRICS_PORT: String(ports.metrics),
      // No polling within the test: the run can only continue through the Redis push, which proves the
      // gateway publishes and the worker subscribes under the same VESPID_REDIS_PREFIX.
      WORKFLOW_CONTINUATION_POLL_MS: '600000',
    });
    await vi.waitFor(
      async () => {
        expect((await fetch(`http://127.0.0.1:${ports.gateway}/readyz`)).status).toBe(200);
        expect((await fetch(`http://127.0.0.1:${ports.metrics}/healthz`)).status).toBe(200);
      },
      { timeout: 60_000, interval: 250 },
    );
  }, 600_000);

  afterAll(async () => {
    await agent?.stop();
    for (const id of Object.values(containers)) await docker('rm', '-f', id).catch(() => {});
    await service?.close();
    if (pool) {
      await dropSchema(pool, schema).catch(() => {});
      await pool.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('pairs an agent, runs a remote node through gateway and worker containers, and each drains on SIGTERM', async () => {
    const owner = await bootstrap(pool, `http://127.0.0.1:${ports.api}`);
    const api = new ApiClient(`http://127.0.0.1:${ports.api}`, owner.accessToken, owner.orgId);
    const { pairingToken } = await api.call<{ pairingToken: string }>('POST', `/v1/orgs/${owner.orgId}/agents/pairing-tokens`);
    agent = spawnAgent({
      cwd: root,
      pairingToken,
      apiBase: `http://127.0.0.1:${ports.api}`,
      tags: 'east,group:alpha',
      configPath: join(dir, 'agent.json'),
      logFile: join(dir, 'agent.log'),
      env: {},
    });
    const online = await vi.waitFor(
      async () => {
        const { agents } = await api.call<{ agents: Array<{ name: string; status: string }> }>('GET', `/v1/orgs/${owner.orgId}/agents`);
        const a = agents.find((x) => x.status === 'online');
        expect(a, readFileSync(join(dir, 'agent.log'), 'utf8').slice(-500)).toBeDefined();
        return a!;
      },
      { timeout: 90_000, interval: 500 },
    );

    const result = await runWorkflow(
      api,
      owner.orgId,
      sampleWorkflow({ serviceUrl: service.url, withSandbox: false, sandboxImage: '' }),
      120_000,
    );
    expect(result.status).toBe('succeeded');
    expect(result.events.map((e) => e.type)).toEqual(expect.arrayContaining(['node_dispatched', 'node_succeeded', 'run_succeeded']));
    expect(service.hits).toBe(1);

    // The public port carries no internal API; the internal one does.
    expect((await fetch(`http://127.0.0.1:${ports.gateway}/metrics`)).status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${ports.internal}/metrics`)).text()).toContain('vespid_gateway_results_total');
    const workerMetrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    expect(workerMetrics).toMatch(/vespid_worker_runs\{status="succeeded"\} 1/);
    expect(workerMetrics).toMatch(/vespid_worker_continuation_lag_seconds_count\{source="push"\} 1/);
    const requestId = result.events.find((e) => e.type === 'node_dispatched')?.payload.requestId as string;
    await vi.waitFor(async () => expect(await logsOf('gateway')).toContain(requestId));

    await agent.stop();
    for (const name of ['worker', 'gateway', 'api']) {
      await docker('stop', '-t', '30', containers[name]!);
      const { stdout } = await docker('inspect', '-f', '{{.State.ExitCode}}', containers[name]!);
      expect(stdout.trim(), `${name} exit code`).toBe('0');
    }
    const gatewayLogs = await logsOf('gateway');
    const settled = gatewayLogs
      .split('\n')
      .filter((l) => l.includes('"dispatch settled"'))
      .map((l) => JSON.parse(l));
    expect(settled).toEqual([expect.objectContaining({ requestId, agent: online.name, status: 'succeeded' })]);
    expect(await logsOf('worker')).toContain('"node result"');
    expect(gatewayLogs).toContain('SIGTERM, draining');
    for (const name of ['api', 'gateway', 'worker']) {
      const logs = await logsOf(name);
      expect(logs).not.toContain(SERVICE_TOKEN);
      expect(logs).not.toContain(KEK);
      expect(logs).not.toContain(pairingToken);
    }
  }, 300_000);
});
