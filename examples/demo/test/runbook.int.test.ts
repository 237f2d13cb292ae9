/**
 * The runbook, end to end, against real Postgres and Redis: bootstrap (the CLI), a pairing token, the
 * runbook's own `connect` command, workflows with `execution.mode: "node"`, publish, run, and the
 * events in workflow_run_events. Plus targeting (agentId / group / tag), revocation, no agent, and a
 * planted secret that must appear in no event, log line or stored result.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPool, dropSchema } from '@vespid/example-db';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient, type AgentProcess, type DemoEvent, type Stack, spawnAgent, startStack, waitFor } from '../src/index.js';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';

const root = join(import.meta.dirname, '../../..');
const run = promisify(execFile);

await describeWith(['postgres', 'redis'], 'runbook end to end (real Postgres + Redis)', () => {
  const schema = uniquePrefix('e2e');
  const canary = `canary-secret-${randomBytes(12).toString('hex')}`;
  const logLines: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'vespid-e2e-'));
  const agents: AgentProcess[] = [];
  let stack: Stack;
  let api: ApiClient;
  let orgId: string;
  let target: Server;
  let targetUrl = '';
  let sawBearer = '';
  const agentIds: Record<'east' | 'west', string> = { east: '', west: '' };

  async function connectAgent(name: 'east' | 'west', tags: string): Promise<string> {
    const { pairingToken } = await api.call<{ pairingToken: string }>('POST', `/v1/orgs/${orgId}/agents/pairing-tokens`);
    // The runbook's command, verbatim but for the port and a config path outside ~/.vespid.
    const agent = spawnAgent({
      cwd: root,
      pairingToken,
      apiBase: stack.apiUrl.replace('127.0.0.1', 'localhost'),
      tags,
      configPath: join(tmp, name, 'agent.json'),
      logFile: join(tmp, `${name}.log`),
      env: { VESPID_AGENT_EXEC_BACKEND: undefined },
    });
    agents.push(agent);
    const config = await waitFor(`${name} agent config`, 60_000, async () => {
      try {
        return JSON.parse(readFileSync(join(tmp, name, 'agent.json'), 'utf8')) as { agentId: string };
      } catch {
        return undefined;
      }
    });
    await waitFor(`${name} online`, 60_000, async () => {
      const { agents: list } = await api.call<{ agents: Array<{ id: string; status: string }> }>('GET', `/v1/orgs/${orgId}/agents`);
      return list.find((a) => a.id === config.agentId && a.status === 'online');
    });
    return config.agentId;
  }

  async function runNode(node: Record<string, unknown>): Promise<{ status: string; events: DemoEvent[] }> {
    const dsl = { version: 1, trigger: { type: 'trigger.manual' }, nodes: [node] };
    const wf = await api.call<{ id: string }>('POST', `/v1/orgs/${orgId}/workflows`, { name: `wf-${node.id}`, dsl });
    await api.call('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/publish`);
    const { runId } = await api.call<{ runId: string }>('POST', `/v1/orgs/${orgId}/workflows/${wf.id}/runs`, {});
    const status = await waitFor('run end', 60_000, async () => {
      const r = await api.call<{ status: string }>('GET', `/v1/orgs/${orgId}/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r.status : undefined;
    });
    const { events } = await api.call<{ events: DemoEvent[] }>('GET', `/v1/orgs/${orgId}/runs/${runId}/events?limit=500`);
    return { status, events };
  }

  const httpNode = (id: string, selector?: Record<string, string | undefined>, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'connector.action',
    config: {
      connectorId: 'http',
      actionId: 'request',
      input: { method: 'GET', url: `${targetUrl}/${id}` },
      execution: { mode: 'node', ...(selector ? { selector } : {}) },
      ...extra,
    },
  });

  const terminal = (events: DemoEvent[]) => events.filter((e) => e.type === 'node_succeeded' || e.type === 'node_failed');

  beforeAll(async () => {
    target = createServer((req, res) => {
      sawBearer = req.headers.authorization ?? sawBearer;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;

    const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    stack = await startStack({
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      apiPort: 0,
      gatewayPort: 0,
      serviceToken: randomBytes(24).toString('base64url'),
      kekId: 'e2e',
      kekBase64: randomBytes(32).toString('base64'),
      bullPrefix: uniquePrefix('bull'),
      // Push must deliver: polling is set far beyond the test's patience.
      env: {
        WORKFLOW_CONTINUATION_POLL_MS: '60000',
        NODE_EXEC_TIMEOUT_MS: '15000',
        WORKFLOW_NODE_RETRY_DELAY_MS: '100',
        // A node waits this long in the gateway's queue for an eligible agent before NO_AGENT_AVAILABLE
        // (the 5-minute default is beyond the test's patience).
        WORKFLOW_NODE_QUEUE_TIMEOUT_MS: '1000',
        // Rate-limit counters live in the shared Redis per client address (127.0.0.1 for every test on this machine).
        API_PAIR_RATE_LIMIT_MAX: '1000',
        API_RATE_LIMIT_MAX: '100000',
      },
      logger,
    });

    // Bootstrap with the CLI, as the runbook's newcomer would.
    const { stdout } = await run(
      'pnpm',
      ['--filter', '@vespid/example-api', 'bootstrap', '--', '--org-name', 'Acme', '--email', `owner-${schema}@acme.test`],
      {
        cwd: root,
        env: {
          ...process.env,
          DATABASE_URL,
          DATABASE_SCHEMA: schema,
          SECRETS_KEK_ID: 'e2e',
          SECRETS_KEK_BASE64: randomBytes(32).toString('base64'),
        },
      },
    );
    const line = stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop()!;
    const boot = JSON.parse(line) as { orgId: string; userId: string; accessToken: string };
    orgId = boot.orgId;
    api = new ApiClient(stack.apiUrl, boot.accessToken, orgId);

    agentIds.east = await connectAgent('east', 'east,group:alpha');
    agentIds.west = await connectAgent('west', 'west');
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await stack?.close();
    await new Promise((r) => target?.close(r));
    const pool = createPool(DATABASE_URL);
    await dropSchema(pool, schema);
    await pool.end();
  }, 60_000);

  it('runs a node-mode connector.action: node_dispatched then node_succeeded', async () => {
    const { status, events } = await runNode(httpNode('plain'));
    expect(status).toBe('succeeded');
    const types = events.map((e) => e.type);
    expect(types.indexOf('node_dispatched')).toBeGreaterThan(-1);
    expect(types.indexOf('node_succeeded')).toBeGreaterThan(types.indexOf('node_dispatched'));
    expect(events.find((e) => e.type === 'node_dispatched')?.payload).toMatchObject({ kind: 'connector.action' });
    expect(terminal(events)).toHaveLength(1);
  });

  it('routes by selector.agentId, selector.group and selector.tag', async () => {
    const cases = [
      { selector: { agentId: agentIds.west }, expected: agentIds.west },
      { selector: { agentId: agentIds.east }, expected: agentIds.east },
      { selector: { group: 'alpha' }, expected: agentIds.east },
      { selector: { tag: 'west' }, expected: agentIds.west },
    ];
    for (const [i, c] of cases.entries()) {
      const { status, events } = await runNode(httpNode(`sel-${i}`, c.selector));
      expect(status, JSON.stringify(c.selector)).toBe('succeeded');
      expect(terminal(events)[0]?.payload.agentId, JSON.stringify(c.selector)).toBe(c.expected);
    }
  });

  it('decrypts a connector secret for the dispatch only: it reaches the target, never events, logs or stored results', async () => {
    const secret = await api.call<{ id: string }>('POST', `/v1/orgs/${orgId}/secrets`, {
      name: 'target-token',
      connectorId: 'http',
      value: canary,
    });
    const { status, events } = await runNode(httpNode('with-secret', { group: 'alpha' }, { auth: { secretId: secret.id } }));
    expect(status).toBe('succeeded');
    expect(sawBearer).toBe(`Bearer ${canary}`);
    expect(JSON.stringify(events)).not.toContain(canary);
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join('\n')).not.toContain(canary);
    for (const name of ['east', 'west']) expect(readFileSync(join(tmp, `${name}.log`), 'utf8')).not.toContain(canary);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys('gateway:results:*');
      const values = keys.length ? await redis.mget(keys) : [];
      expect(values.join('\n')).not.toContain(canary);
    } finally {
      redis.disconnect();
    }
  });

  it('never uses a revoked agent: the run fails NO_AGENT_AVAILABLE after its retries', async () => {
    await api.call('POST', `/v1/orgs/${orgId}/agents/${agentIds.west}/revoke`);
    const { status, events } = await runNode(httpNode('revoked', { agentId: agentIds.west }));
    expect(status).toBe('failed');
    const failures = terminal(events);
    expect(failures.length).toBe(3);
    for (const f of failures) expect(f.type).toBe('node_failed');
    expect(events.at(-1)).toMatchObject({ type: 'run_failed', payload: { error: { code: 'NO_AGENT_AVAILABLE' } } });
    // The revoked agent process stops with a clear message instead of retrying forever.
    await waitFor('revoked agent exit', 30_000, async () => (agents[1]!.child.exitCode !== null ? true : undefined));
    expect(readFileSync(join(tmp, 'west.log'), 'utf8')).toMatch(/revoked/i);
  });

  it('fails with NO_AGENT_AVAILABLE instead of hanging when no agent matches', async () => {
    const { status, events } = await runNode(httpNode('nowhere', { tag: 'no-such-tag' }));
    expect(status).toBe('failed');
    // Each attempt waited in the gateway's queue first, and the run says why.
    const queued = events.filter((e) => e.type === 'node_queued');
    expect(queued.length).toBeGreaterThan(0);
    expect(queued[0]).toMatchObject({ payload: { explanation: { excluded: { selector: expect.any(Number) } } } });
    expect(events.at(-1)).toMatchObject({ type: 'run_failed', payload: { error: { code: 'NO_AGENT_AVAILABLE' } } });
  });
});
