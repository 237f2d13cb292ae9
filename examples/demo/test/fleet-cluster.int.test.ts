/**
 * Pause and resume across gateway replicas (GATEWAY_CLUSTER=redis, two replicas sharing Redis): the
 * agent holds its socket on replica 1, the worker dispatches through replica 2. The pause travels on
 * `vespid:control` to both; replica 1 withdraws the agent's presence so replica 2 cannot forward to it:
 * the node waits in the cluster queue (`node_queued`) instead of failing; resume publishes the agent
 * again, the waiting node crosses replicas to it, and so does the next run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema } from '@vespid/example-db';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { type AgentProcess, ApiClient, type DemoEvent, type Stack, spawnAgent, startStack, waitFor } from '../src/index.js';

const root = join(import.meta.dirname, '../../..');

await describeWith(['postgres', 'redis'], 'pause and resume across two gateway replicas', () => {
  const schema = uniquePrefix('fleetc');
  const tmp = mkdtempSync(join(tmpdir(), 'vespid-fleetc-'));
  const hits: string[] = [];
  let stack: Stack;
  let pool: Pool;
  let owner: ApiClient;
  let orgId: string;
  let agent: AgentProcess;
  let agentId = '';
  let target: Server;
  let targetUrl = '';

  const start = async (nodeId: string) => {
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
            input: { method: 'GET', url: `${targetUrl}/${nodeId}` },
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
  const events = async (runId: string) =>
    (await owner.call<{ events: DemoEvent[] }>('GET', `/v1/orgs/${orgId}/runs/${runId}/events?limit=500`)).events;
  const settled = async (runId: string, nodeId: string) => {
    const status = await waitFor(`run ${nodeId}`, 60_000, async () => {
      const r = await owner.call<{ status: string }>('GET', `/v1/orgs/${orgId}/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r.status : undefined;
    });
    return { status, events: await events(runId) };
  };
  const run = async (nodeId: string) => settled(await start(nodeId), nodeId);
  const holding = () => stack.gateways[0]!.gateway.listSessions().find((s) => s.agentId === agentId);

  beforeAll(async () => {
    target = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
    stack = await startStack({
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      apiPort: 0,
      gatewayPort: 0,
      gatewayReplicas: 2,
      serviceToken: randomBytes(24).toString('base64url'),
      kekId: 'fleetc',
      kekBase64: randomBytes(32).toString('base64'),
      bullPrefix: uniquePrefix('bull'),
      env: {
        NODE_EXEC_TIMEOUT_MS: '30000',
        WORKFLOW_NODE_MAX_ATTEMPTS: '1',
        API_PAIR_RATE_LIMIT_MAX: '1000',
        API_RATE_LIMIT_MAX: '100000',
      },
      logger: pino({ level: 'silent' }),
    });
    pool = createPool(DATABASE_URL, { schema, max: 2 });
    const boot = await bootstrapOrganization(pool, { orgName: 'Fleet Cluster', email: `owner-${schema}@fleet.test` });
    orgId = boot.orgId;
    owner = new ApiClient(stack.apiUrl, boot.accessToken, orgId);
    const { pairingToken } = await owner.call<{ pairingToken: string }>('POST', `/v1/orgs/${orgId}/agents/pairing-tokens`);
    agent = spawnAgent({
      cwd: root,
      pairingToken,
      apiBase: stack.apiUrl,
      tags: 'fleet',
      configPath: join(tmp, 'agent.json'),
      logFile: join(tmp, 'agent.log'),
      env: { VESPID_AGENT_EXEC_BACKEND: undefined },
    });
    agentId = (
      await waitFor('agent config', 60_000, async () => {
        try {
          return JSON.parse(readFileSync(join(tmp, 'agent.json'), 'utf8')) as { agentId: string };
        } catch {
          return undefined;
        }
      })
    ).agentId;
    await waitFor('agent on replica 1', 60_000, async () => (holding()?.state === 'ready' ? true : undefined));
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await stack?.close();
    await new Promise((r) => target?.close(r));
    if (pool) {
      await dropSchema(pool, schema);
      await pool.end();
    }
  }, 60_000);

  it('a paused agent gets no work through another replica; resumed, it does', async () => {
    expect((await run('before')).status).toBe('succeeded');

    await owner.call('POST', `/v1/orgs/${orgId}/agents/${agentId}/pause`);
    await waitFor('replica 1 applied the pause', 15_000, async () => (holding()?.paused ? true : undefined));
    const waiting = await start('while-paused');
    const queued = await waitFor('node_queued while paused', 30_000, async () =>
      (await events(waiting)).find((e) => e.type === 'node_queued'),
    );
    // Cluster mode withdraws a paused agent's presence, so the explanation of the replica that queued it counts no agent at all.
    expect(queued.payload).toMatchObject({ position: 1, explanation: { connected: 0 } });
    expect(hits).not.toContain('/while-paused');
    // Still connected: a pause is not a disconnect.
    expect(holding()?.state).toBe('ready');

    await owner.call('POST', `/v1/orgs/${orgId}/agents/${agentId}/resume`);
    await waitFor('replica 1 applied the resume', 15_000, async () => (holding()?.paused === false ? true : undefined));
    const released = await settled(waiting, 'while-paused');
    expect(released.status).toBe('succeeded');
    expect(hits).toContain('/while-paused');
    const resumed = await run('after-resume');
    expect(resumed.status).toBe('succeeded');
    expect(resumed.events.find((e) => e.type === 'node_succeeded')?.payload.agentId).toBe(agentId);
    expect(hits).toContain('/after-resume');
  });
});
