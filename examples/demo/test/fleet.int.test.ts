/**
 * The fleet view against the composed stack (api + gateway + worker on real Postgres and Redis, a real
 * node-agent process): an agent's detail shows the job it is running with its run and node, its job
 * history has durations, the run view names the agent per node, run events carry who and how long,
 * pause (cordon) makes a run for that agent wait in the gateway's queue and resume runs it, the list
 * filters and hides revoked agents, and a member reads everything but cannot pause. No token in any
 * answer.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema } from '@vespid/example-db';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { type AgentProcess, ApiClient, type DemoEvent, type Stack, spawnAgent, startStack, waitFor } from '../src/index.js';

const root = join(import.meta.dirname, '../../..');

await describeWith(['postgres', 'redis'], 'fleet view: agent detail, jobs, run view, pause and resume (real stack)', () => {
  const schema = uniquePrefix('fleet');
  const tmp = mkdtempSync(join(tmpdir(), 'vespid-fleet-'));
  const logLines: string[] = [];
  let stack: Stack;
  let pool: Pool;
  let owner: ApiClient;
  let member: ApiClient;
  let memberRaw: { accessToken: string };
  let orgId: string;
  let agent: AgentProcess;
  let agentId = '';
  let agentToken = '';
  let target: Server;
  let targetUrl = '';
  // The first request to /hold waits until released: a job the agent is busy with.
  let releaseHold: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    releaseHold = resolve;
  });

  const runOf = async (nodeId: string, path: string) => {
    const dsl = {
      version: 1,
      trigger: { type: 'trigger.manual' },
      nodes: [
        {
          id: nodeId,
          type: 'connector.action',
          config: {
            connectorId: 'http',
            actionId: 'request',
            input: { method: 'GET', url: `${targetUrl}/${path}` },
            execution: { mode: 'node', selector: { agentId } },
          },
        },
      ],
    };
    const wf = await owner.call<{ id: string }>('POST', `/v1/orgs/${orgId}/workflows`, { name: `wf-${nodeId}`, dsl });
    await owner.call('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/publish`);
    const { runId } = await owner.call<{ runId: string }>('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/runs`, {});
    return runId;
  };
  const runEnd = (runId: string) =>
    waitFor(`run ${runId} end`, 60_000, async () => {
      const r = await owner.call<{ status: string }>('GET', `/v1/orgs/${orgId}/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r.status : undefined;
    });
  const eventsOf = async (runId: string) =>
    (await owner.call<{ events: DemoEvent[] }>('GET', `/v1/orgs/${orgId}/runs/${runId}/events?limit=500`)).events;

  beforeAll(async () => {
    target = createServer((req, res) => {
      const reply = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path: req.url }));
      if (req.url === '/hold') void held.then(reply);
      else reply();
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
      kekId: 'fleet',
      kekBase64: randomBytes(32).toString('base64'),
      bullPrefix: uniquePrefix('bull'),
      env: {
        NODE_EXEC_TIMEOUT_MS: '30000',
        // A run for a paused agent waits in the gateway's queue (well beyond this test's patience).
        WORKFLOW_NODE_QUEUE_TIMEOUT_MS: '120000',
        API_PAIR_RATE_LIMIT_MAX: '1000',
        API_RATE_LIMIT_MAX: '100000',
      },
      logger: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }),
    });
    pool = createPool(DATABASE_URL, { schema, max: 2 });
    const boot = await bootstrapOrganization(pool, { orgName: 'Fleet', email: `owner-${schema}@fleet.test` });
    orgId = boot.orgId;
    owner = new ApiClient(stack.apiUrl, boot.accessToken, orgId);
    memberRaw = await addMember(pool, { organizationId: orgId, email: `member-${schema}@fleet.test`, role: 'member' });
    member = new ApiClient(stack.apiUrl, memberRaw.accessToken, orgId);

    const { pairingToken } = await owner.call<{ pairingToken: string }>('POST', `/v1/orgs/${orgId}/agents/pairing-tokens`);
    agent = spawnAgent({
      cwd: root,
      pairingToken,
      apiBase: stack.apiUrl,
      tags: 'fleet,group:blue',
      configPath: join(tmp, 'agent.json'),
      logFile: join(tmp, 'agent.log'),
      env: { VESPID_AGENT_EXEC_BACKEND: undefined },
    });
    const config = await waitFor('agent config', 60_000, async () => {
      try {
        return JSON.parse(readFileSync(join(tmp, 'agent.json'), 'utf8')) as { agentId: string; agentToken: string };
      } catch {
        return undefined;
      }
    });
    agentId = config.agentId;
    agentToken = config.agentToken;
    await waitFor('agent online', 60_000, async () => {
      const a = await owner.call<{ status: string }>('GET', `/v1/orgs/${orgId}/agents/${agentId}`);
      return a.status === 'online' ? a : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    releaseHold();
    await agent?.stop();
    await stack?.close();
    target?.closeAllConnections();
    await new Promise((r) => target?.close(r));
    if (pool) {
      await dropSchema(pool, schema);
      await pool.end();
    }
  }, 60_000);

  it('shows the running job on the agent, then the finished job with durations in its history and the run view', async () => {
    const runId = await runOf('slow', 'hold');
    const busy = await waitFor('job in flight on the agent', 30_000, async () => {
      const a = await member.call<{ currentJobs: Array<{ runId: string; nodeId: string }> }>('GET', `/v1/orgs/${orgId}/agents/${agentId}`);
      return a.currentJobs.length > 0 ? a : undefined;
    });
    expect(busy).toMatchObject({
      id: agentId,
      status: 'online',
      paused: false,
      live: { inFlight: 1, remoteAddress: expect.any(String), connectedAt: expect.any(String), paused: false },
      currentJobs: [{ runId, nodeId: 'slow', attempt: 0, kind: 'connector.action', received: true }],
    });
    expect(busy).toHaveProperty('agentVersion');
    expect(busy).toHaveProperty('host');
    releaseHold();
    expect(await runEnd(runId)).toBe('succeeded');

    const events = await eventsOf(runId);
    const done = events.find((e) => e.type === 'node_succeeded')!;
    expect(done.payload).toMatchObject({ agentId, agentName: expect.any(String) });
    for (const k of ['queuedMs', 'executingMs', 'totalMs']) expect(done.payload[k], k).toBeTypeOf('number');
    // It was held open until released: execution took real time, and the parts add up.
    expect(done.payload.executingMs as number).toBeGreaterThan(0);
    expect((done.payload.queuedMs as number) + (done.payload.executingMs as number)).toBeLessThanOrEqual(
      (done.payload.totalMs as number) + 5,
    );

    const jobs = await member.call<{ jobs: any[]; nextCursor: string | null }>('GET', `/v1/orgs/${orgId}/agents/${agentId}/jobs`);
    expect(jobs.jobs[0]).toMatchObject({ runId, nodeId: 'slow', kind: 'connector.action', status: 'succeeded', errorCode: null });
    expect(jobs.jobs[0].executingMs).toBeGreaterThan(0);

    const view = await member.call<{ status: string; nodes: any[] }>('GET', `/v1/orgs/${orgId}/runs/${runId}`);
    expect(view.nodes).toEqual([
      expect.objectContaining({
        id: 'slow',
        status: 'succeeded',
        attempts: 1,
        agent: { id: agentId, name: done.payload.agentName },
        durations: { queuedMs: done.payload.queuedMs, executingMs: done.payload.executingMs, totalMs: done.payload.totalMs },
      }),
    ]);
  });

  it('pages the job history with a cursor', async () => {
    for (const n of ['p1', 'p2']) expect(await runEnd(await runOf(n, n))).toBe('succeeded');
    const first = await owner.call<{ jobs: any[]; nextCursor: string | null }>('GET', `/v1/orgs/${orgId}/agents/${agentId}/jobs?limit=2`);
    expect(first.jobs.map((j) => j.nodeId)).toEqual(['p2', 'p1']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const next = await owner.call<{ jobs: any[]; nextCursor: string | null }>(
      'GET',
      `/v1/orgs/${orgId}/agents/${agentId}/jobs?limit=2&cursor=${first.nextCursor}`,
    );
    expect(next.jobs.map((j) => j.nodeId)).toEqual(['slow']);
    expect(next.nextCursor).toBeNull();
  });

  it('pause: a member may not; the owner pauses, a new run waits queued; resume runs it; both are recorded', async () => {
    await expect(member.call('POST', `/v1/orgs/${orgId}/agents/${agentId}/pause`)).rejects.toThrow(/403/);
    const paused = await owner.call<{ paused: boolean; propagated: boolean }>('POST', `/v1/orgs/${orgId}/agents/${agentId}/pause`);
    expect(paused).toMatchObject({ paused: true, propagated: true });
    await waitFor('gateway applied the pause', 15_000, async () => {
      const a = await owner.call<{ live: { paused?: boolean } | null }>('GET', `/v1/orgs/${orgId}/agents/${agentId}`);
      return a.live?.paused === true ? true : undefined;
    });

    const runId = await runOf('after-pause', 'after-pause');
    const queued = await waitFor('node_queued', 30_000, async () => (await eventsOf(runId)).find((e) => e.type === 'node_queued'));
    expect(queued.payload).toMatchObject({ explanation: { connected: 1, excluded: { paused: 1 } } });
    expect((await owner.call<{ status: string }>('GET', `/v1/orgs/${orgId}/runs/${runId}`)).status).toBe('blocked');
    const waiting = await owner.call<{ nodes: any[] }>('GET', `/v1/orgs/${orgId}/runs/${runId}`);
    expect(waiting.nodes[0]).toMatchObject({ id: 'after-pause', status: 'queued', agent: null });
    // The agent is still online (it stays connected), shown paused, and listed by the paused filter.
    const list = await member.call<{ agents: any[] }>('GET', `/v1/orgs/${orgId}/agents?status=paused`);
    expect(list.agents.map((a) => [a.id, a.status, a.paused])).toEqual([[agentId, 'online', true]]);

    await expect(member.call('POST', `/v1/orgs/${orgId}/agents/${agentId}/resume`)).rejects.toThrow(/403/);
    expect(await owner.call('POST', `/v1/orgs/${orgId}/agents/${agentId}/resume`)).toMatchObject({ paused: false, propagated: true });
    expect(await runEnd(runId)).toBe('succeeded');
    const done = (await eventsOf(runId)).find((e) => e.type === 'node_succeeded')!;
    expect(done.payload.agentId).toBe(agentId);
    // It waited for the resume: the queue time is most of the total.
    expect(done.payload.queuedMs as number).toBeGreaterThan(0);

    const { rows } = await pool.query<{ type: string; actor_user_id: string }>(
      'SELECT type, actor_user_id FROM agent_events WHERE agent_id = $1 ORDER BY id',
      [agentId],
    );
    expect(rows.map((r) => r.type)).toEqual(['agent_paused', 'agent_resumed']);
    const again = await owner.call<{ paused: boolean }>('GET', `/v1/orgs/${orgId}/agents/${agentId}`);
    expect(again.paused).toBe(false);
  });

  it('the list filters by status, tag and text and hides revoked agents unless asked; no token anywhere', async () => {
    const { pairingToken } = await owner.call<{ pairingToken: string }>('POST', `/v1/orgs/${orgId}/agents/pairing-tokens`);
    const res = await fetch(`${stack.apiUrl}/v1/agents/pair`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pairingToken, name: 'retired-box', tags: ['old'] }),
    });
    const retired = (await res.json()) as { agentId: string; agentToken: string };
    await owner.call('POST', `/v1/orgs/${orgId}/agents/${retired.agentId}/revoke`);

    const ids = async (query: string) =>
      (await member.call<{ agents: Array<{ id: string }> }>('GET', `/v1/orgs/${orgId}/agents${query}`)).agents.map((a) => a.id);
    expect(await ids('')).toEqual([agentId]);
    expect(await ids('?includeRevoked=true')).toEqual([agentId, retired.agentId]);
    expect(await ids('?status=revoked')).toEqual([retired.agentId]);
    expect(await ids('?status=online')).toEqual([agentId]);
    expect(await ids('?status=offline')).toEqual([]);
    expect(await ids('?tag=group:blue')).toEqual([agentId]);
    expect(await ids('?tag=old&includeRevoked=true')).toEqual([retired.agentId]);
    expect(await ids(`?q=${agentId.slice(0, 8).toUpperCase()}`)).toEqual([agentId]);
    expect(await ids('?q=nothing-like-this')).toEqual([]);
    await expect(member.call('GET', `/v1/orgs/${orgId}/agents?status=sleeping`)).rejects.toThrow(/400/);

    const bodies = JSON.stringify([
      await member.call('GET', `/v1/orgs/${orgId}/agents?includeRevoked=true`),
      await member.call('GET', `/v1/orgs/${orgId}/agents/${agentId}`),
      await member.call('GET', `/v1/orgs/${orgId}/agents/${agentId}/jobs`),
    ]);
    for (const secret of [agentToken, retired.agentToken, memberRaw.accessToken]) expect(bodies).not.toContain(secret);
    expect(bodies).not.toContain('token_hash');
    expect(bodies).not.toMatch(/"(agentToken|tokenHash)"/);
  });
});
