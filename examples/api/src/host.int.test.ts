import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPool, dropSchema } from '@vespid/example-db';
import { Queue } from 'bullmq';
import { afterAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { inProcessControlBus, type ControlEvent } from './control-bus.js';
import { startApiHost } from './host.js';
import { createApiLogger } from './logger.js';
import { type RunJob, inProcessRunQueue } from './run-queue.js';
import { waitFor } from '../../../test/support/wait-for.js';

const run = promisify(execFile);
const apiDir = fileURLToPath(new URL('..', import.meta.url));
const silent = createApiLogger({ level: 'silent' });

const workflow = {
  name: 'w',
  dsl: {
    version: 1,
    trigger: { type: 'trigger.manual' },
    nodes: [{ id: 'n1', type: 'agent.execute', config: { task: { type: 'shell', script: 'echo hi' }, execution: { mode: 'node' } } }],
  },
};

async function json(url: string, init: RequestInit & { token?: string; orgId?: string; body?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.orgId) headers['x-org-id'] = init.orgId;
  if (init.body) headers['content-type'] = 'application/json';
  const res = await fetch(url, { ...init, headers });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

await describeWith(['postgres', 'redis'], 'api host (startApiHost, CLI)', () => {
  const schema = uniquePrefix('apihost');
  const prefix = uniquePrefix('bullhost');
  const pool = createPool(DATABASE_URL, { schema });
  const env = {
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    BULLMQ_PREFIX: prefix,
    SECRETS_KEK_ID: 'k1',
    SECRETS_KEK_BASE64: randomBytes(32).toString('base64'),
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    GATEWAY_WS_URL: 'ws://127.0.0.1:3999/ws',
    GATEWAY_AGENT_STALE_MS: '1000',
    // Redis-backed rate-limit counters are shared per client address (127.0.0.1) by every api host
    // on this machine's Redis (other test files, demo runs): keep this file clear of their traffic.
    API_PAIR_RATE_LIMIT_MAX: '1000',
    API_RATE_LIMIT_MAX: '100000',
  };
  afterAll(async () => {
    const q = new Queue('workflow-runs', { connection: { url: REDIS_URL }, prefix });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('migrates and bootstraps through the documented pnpm commands, then serves the runbook flow over Redis', async () => {
    const cliEnv = { ...process.env, DATABASE_URL, DATABASE_SCHEMA: schema };
    const migrated = await run('pnpm', ['--filter', '@vespid/example-api', 'migrate'], { cwd: apiDir, env: cliEnv });
    expect(migrated.stdout).toMatch(/applied: 0001_control_plane|schema is up to date/);
    const boot = await run('pnpm', ['--filter', '@vespid/example-api', 'bootstrap', '--', '--org-name', 'Acme', '--email', 'you@x.y'], {
      cwd: apiDir,
      env: cliEnv,
    });
    const line = boot.stdout.trim().split('\n').at(-1)!;
    const { orgId, userId, accessToken } = JSON.parse(line) as { orgId: string; userId: string; accessToken: string };
    expect(Object.keys(JSON.parse(line)).sort()).toEqual(['accessToken', 'orgId', 'userId']);
    expect(userId).toMatch(/^[0-9a-f-]{36}$/);

    const api = await startApiHost(env, { logger: silent });
    try {
      expect(api.config.agentStaleMs).toBe(30_000);
      expect((await json(`${api.url}/health`)).body).toEqual({ ok: true });
      const o = `${api.url}/v1/orgs/${orgId}`;
      const pt = await json(`${o}/agents/pairing-tokens`, { method: 'POST', token: accessToken, orgId });
      expect(pt.status).toBe(201);
      const paired = await json(`${api.url}/v1/agents/pair`, {
        method: 'POST',
        body: JSON.stringify({ pairingToken: pt.body.pairingToken, name: 'a1', tags: ['east'] }),
      });
      expect(paired.body).toMatchObject({ organizationId: orgId, gatewayWsUrl: 'ws://127.0.0.1:3999/ws' });
      const wf = await json(`${o}/workflows`, { method: 'POST', token: accessToken, orgId, body: JSON.stringify(workflow) });
      await json(`${o}/workflows/${wf.body.id}/publish`, { method: 'POST', token: accessToken, orgId });
      const started = await json(`${o}/workflows/${wf.body.id}/runs`, { method: 'POST', token: accessToken, orgId });
      expect(started.status).toBe(201);
      const q = new Queue('workflow-runs', { connection: { url: REDIS_URL }, prefix });
      try {
        expect((await q.getJob(started.body.runId))?.data).toEqual({ runId: started.body.runId, organizationId: orgId });
      } finally {
        await q.close();
      }
    } finally {
      await api.close();
      await api.close();
    }
    await expect(fetch(`${api.url}/health`)).rejects.toThrow();
  });

  it('composes in-process control bus and run queue for a single-process setup without Redis', async () => {
    const jobs: RunJob[] = [];
    const events: ControlEvent[] = [];
    const controlBus = inProcessControlBus();
    const unsubscribe = controlBus.subscribe((e) => {
      events.push(e);
    });
    const api = await startApiHost(
      { ...env, REDIS_URL: undefined },
      { logger: silent, controlBus, runQueue: inProcessRunQueue((job) => void jobs.push(job)) },
    );
    try {
      const { bootstrapOrganization } = await import('./users.js');
      const { orgId, accessToken } = await bootstrapOrganization(pool, { orgName: 'Solo', email: 'solo@x.y' });
      const o = `${api.url}/v1/orgs/${orgId}`;
      const pt = await json(`${o}/agents/pairing-tokens`, { method: 'POST', token: accessToken, orgId });
      const { agentId } = (
        await json(`${api.url}/v1/agents/pair`, { method: 'POST', body: JSON.stringify({ pairingToken: pt.body.pairingToken, name: 'a' }) })
      ).body;
      await json(`${o}/agents/${agentId}/tags`, { method: 'PUT', token: accessToken, orgId, body: JSON.stringify({ tags: ['t1'] }) });
      await json(`${o}/agents/${agentId}/revoke`, { method: 'POST', token: accessToken, orgId });
      expect(events).toEqual([
        { type: 'agent_tags_updated', agentId, tags: ['t1'] },
        { type: 'agent_revoked', agentId },
      ]);
      const wf = await json(`${o}/workflows`, { method: 'POST', token: accessToken, orgId, body: JSON.stringify(workflow) });
      await json(`${o}/workflows/${wf.body.id}/publish`, { method: 'POST', token: accessToken, orgId });
      const started = await json(`${o}/workflows/${wf.body.id}/runs`, { method: 'POST', token: accessToken, orgId });
      await waitFor(() => jobs.length > 0, 'the run job');
      expect(jobs).toEqual([{ runId: started.body.runId, organizationId: orgId }]);
    } finally {
      unsubscribe();
      await api.close();
    }
  });

  it('refuses to start without a run queue when REDIS_URL is unset', async () => {
    await expect(startApiHost({ ...env, REDIS_URL: undefined }, { logger: silent })).rejects.toThrow(/REDIS_URL/);
  });

  it('runs as a process (src/main.ts): logs where it listens, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: apiDir,
      env: { ...process.env, ...env, API_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await waitFor(() => /"url":"(http:[^"]+)"/.exec(out)?.[1], {
        what: 'the listen log line',
        timeoutMs: 15_000,
        intervalMs: 50,
        detail: () => out,
      });
      expect((await json(`${url}/health`)).body).toEqual({ ok: true });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('api closed');
    expect(out).not.toContain(env.SECRETS_KEK_BASE64);
  });
});
