/**
 * Manual agent approval against the composed stack (api + gateway + worker on real Postgres and Redis,
 * real node-agent processes paired with the runbook's CLI): under `agentApproval: 'manual'` a paired
 * agent connects and is listed pending with its host and version; a run for it waits in the gateway's
 * queue (`node_queued`, the agent counted as paused); approving runs the queued node on it. Rejecting
 * a second agent closes its session (the process stops) and the gateway refuses its token with 403.
 * The audit log shows the whole story; no token appears in it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema } from '@vespid/example-db';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { type AgentProcess, ApiClient, type DemoEvent, type Stack, spawnAgent, startStack, waitFor } from '../src/index.js';

const root = join(import.meta.dirname, '../../..');

/** The HTTP status of a WebSocket upgrade to the gateway with `token` (101 when it upgrades). */
function upgradeStatus(wsUrl: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(wsUrl.replace(/^ws/, 'http'), {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        authorization: `Bearer ${token}`,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

await describeWith(['postgres', 'redis'], 'manual agent approval (real stack, real node-agents)', () => {
  const schema = uniquePrefix('approval');
  const tmp = mkdtempSync(join(tmpdir(), 'vespid-approval-'));
  const agents: AgentProcess[] = [];
  let stack: Stack;
  let pool: Pool;
  let owner: ApiClient;
  let orgId: string;
  let target: Server;
  let targetUrl = '';
  const planted: string[] = [];

  /** Pairs a node-agent process with the runbook's CLI; resolves with its id and token from its config. */
  const startAgent = async (name: string, tags: string) => {
    const { pairingToken } = await owner.call<{ pairingToken: string }>('POST', `/v1/orgs/${orgId}/agents/pairing-tokens`);
    planted.push(pairingToken);
    const configPath = join(tmp, `${name}.json`);
    const proc = spawnAgent({
      cwd: root,
      pairingToken,
      apiBase: stack.apiUrl,
      tags,
      configPath,
      logFile: join(tmp, `${name}.log`),
      env: { VESPID_AGENT_EXEC_BACKEND: undefined },
    });
    agents.push(proc);
    const config = await waitFor(`${name} config`, 60_000, async () => {
      try {
        return JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string; agentToken: string };
      } catch {
        return undefined;
      }
    });
    planted.push(config.agentToken);
    return { proc, ...config };
  };
  const detail = (agentId: string) => owner.call<any>('GET', `/v1/orgs/${orgId}/agents/${agentId}`);
  const eventsOf = async (runId: string) =>
    (await owner.call<{ events: DemoEvent[] }>('GET', `/v1/orgs/${orgId}/runs/${runId}/events?limit=500`)).events;

  beforeAll(async () => {
    target = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
    stack = await startStack({
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      apiPort: 0,
      gatewayPort: 0,
      serviceToken: randomBytes(24).toString('base64url'),
      kekId: 'approval',
      kekBase64: randomBytes(32).toString('base64'),
      bullPrefix: uniquePrefix('bull'),
      env: {
        NODE_EXEC_TIMEOUT_MS: '30000',
        // A run for a pending agent waits in the gateway's queue (well beyond this test's patience).
        WORKFLOW_NODE_QUEUE_TIMEOUT_MS: '120000',
        API_PAIR_RATE_LIMIT_MAX: '1000',
        API_RATE_LIMIT_MAX: '100000',
      },
      logger: pino({ level: 'silent' }),
    });
    pool = createPool(DATABASE_URL, { schema, max: 2 });
    const boot = await bootstrapOrganization(pool, { orgName: 'Approvals', email: `owner-${schema}@approval.test` });
    orgId = boot.orgId;
    owner = new ApiClient(stack.apiUrl, boot.accessToken, orgId);
    expect(await owner.call('PATCH', `/v1/orgs/${orgId}/settings`, { agentApproval: 'manual' })).toEqual({ agentApproval: 'manual' });
  }, 120_000);

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await stack?.close();
    target?.closeAllConnections();
    await new Promise((r) => target?.close(r));
    if (pool) {
      await dropSchema(pool, schema);
      await pool.end();
    }
  }, 60_000);

  it('a pending agent connects and shows its host and version; its run waits queued until approval, then runs on it', async () => {
    const agent = await startAgent('pending', 'gpu,group:lab');
    const pending = await waitFor('pending agent connected', 60_000, async () => {
      const a = await detail(agent.agentId);
      // The gateway stores the hello's host and version just after the session opens: wait for both.
      return a.live?.paused === true && a.host?.hostname ? a : undefined;
    });
    expect(pending).toMatchObject({
      status: 'online',
      approval: 'pending',
      tags: [],
      proposedTags: ['gpu', 'group:lab'],
      agentVersion: expect.any(String),
      host: { hostname: expect.any(String) },
    });
    const listed = await owner.call<{ agents: Array<{ id: string }> }>('GET', `/v1/orgs/${orgId}/agents?status=pending`);
    expect(listed.agents.map((a) => a.id)).toEqual([agent.agentId]);

    const dsl = {
      version: 1,
      trigger: { type: 'trigger.manual' },
      nodes: [
        {
          id: 'after-approval',
          type: 'connector.action',
          config: {
            connectorId: 'http',
            actionId: 'request',
            input: { method: 'GET', url: `${targetUrl}/ok` },
            execution: { mode: 'node', selector: { agentId: agent.agentId } },
          },
        },
      ],
    };
    const wf = await owner.call<{ id: string }>('POST', `/v1/orgs/${orgId}/workflows`, { name: 'wf-approval', dsl });
    await owner.call('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/publish`);
    const { runId } = await owner.call<{ runId: string }>('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/runs`, {});
    const queued = await waitFor('node_queued', 30_000, async () => (await eventsOf(runId)).find((e) => e.type === 'node_queued'));
    // The gateway withholds a pending agent exactly like a paused one.
    expect(queued.payload).toMatchObject({ explanation: { connected: 1, excluded: { paused: 1 } } });
    expect((await owner.call<{ status: string }>('GET', `/v1/orgs/${orgId}/runs/${runId}`)).status).toBe('blocked');

    const approved = await owner.call('POST', `/v1/orgs/${orgId}/agents/${agent.agentId}/approve`);
    expect(approved).toMatchObject({ approval: 'approved', tags: ['gpu', 'group:lab'], propagated: true });
    const status = await waitFor(`run ${runId} end`, 60_000, async () => {
      const r = await owner.call<{ status: string }>('GET', `/v1/orgs/${orgId}/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r.status : undefined;
    });
    expect(status).toBe('succeeded');
    const done = (await eventsOf(runId)).find((e) => e.type === 'node_succeeded')!;
    expect(done.payload.agentId).toBe(agent.agentId);
    expect(done.payload.queuedMs as number).toBeGreaterThan(0);
    expect(await detail(agent.agentId)).toMatchObject({ approval: 'approved', tags: ['gpu', 'group:lab'], live: { paused: false } });
  });

  it('reject closes the pending agent’s session and the gateway refuses its token with 403', async () => {
    const agent = await startAgent('rejected', 'x');
    await waitFor('second agent connected', 60_000, async () => ((await detail(agent.agentId)).live ? true : undefined));
    expect(await upgradeStatus(stack.gatewayWsUrl, `${orgId}.not-a-real-token-at-all-000000000000`)).toBe(401);

    const rejected = await owner.call('POST', `/v1/orgs/${orgId}/agents/${agent.agentId}/reject`);
    expect(rejected).toMatchObject({ approval: 'rejected', status: 'revoked', propagated: true });
    // 4403 is fatal for the agent: it stops instead of reconnecting.
    await agent.proc.exited;
    await waitFor('session gone', 15_000, async () => ((await detail(agent.agentId)).live ? undefined : true));
    expect(await upgradeStatus(stack.gatewayWsUrl, agent.agentToken)).toBe(403);

    const audit = await owner.call<{ events: Array<{ type: string; actor: { type: string } }> }>(
      'GET',
      `/v1/orgs/${orgId}/audit?agentId=${agent.agentId}`,
    );
    expect(audit.events.map((e) => e.type)).toEqual(['agent.rejected', 'agent.paired', 'pairing_token.used']);
    const all = JSON.stringify(await owner.call('GET', `/v1/orgs/${orgId}/audit?limit=200`));
    for (const t of planted) expect(all).not.toContain(t.split('.').at(-1));
  });
});
