/**
 * Queued dispatch end to end: worker (sdk-dispatch runner, Postgres) → a real gateway over HTTP → real
 * WebSocket agents. A remote node waits in the gateway for its agent instead of failing.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema, migrate } from '@vespid/example-db';
import { type Gateway, createGateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { type TestAgent, connectTestAgent } from '@vespid/sdk-gateway/testing';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { type WorkerHost, startWorkerHost } from './host.js';
import { insertRun } from '../test/test-support.js';

const SERVICE_TOKEN = `svc-queued-${Date.now()}`;

await describeWith(['postgres'], 'worker: remote nodes wait in the gateway queue for their agent', () => {
  const schema = uniquePrefix('wq');
  let pool: Pool;
  let orgId: string;
  const auth = staticAuthenticator([]);
  let tok = 0;
  let port = 0;
  let gateway: Gateway | undefined;
  let server: Server | undefined;
  const agents: TestAgent[] = [];
  const hosts: WorkerHost[] = [];

  /** A gateway on a fixed port (0 the first time), so that a restarted one is found at the same URL. */
  async function startGateway(): Promise<Gateway> {
    gateway = createGateway({ authenticator: auth, serviceToken: SERVICE_TOKEN });
    server = createServer(gateway.httpHandler);
    gateway.attach(server, { path: '/ws' });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    return gateway;
  }

  async function stopGateway(): Promise<void> {
    await gateway?.close({ timeoutMs: 1000 });
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    gateway = server = undefined;
  }

  async function agent(maxInFlight?: number): Promise<TestAgent> {
    const agentId = `agent-${++tok}`;
    const token = `${orgId}.tok${String(tok).padStart(20, '0')}`;
    auth.set({ agentId, organizationId: orgId, tags: [], token, maxInFlight: maxInFlight ?? null });
    const a = await connectTestAgent({ url: `ws://127.0.0.1:${port}/ws`, token });
    agents.push(a);
    return a;
  }

  const executes = (a: TestAgent) => a.received.filter((m) => m.type === 'execute').map((m) => (m as { requestId: string }).requestId);
  const reply = (a: TestAgent, requestId: string) =>
    a.send({ type: 'execute_result', requestId, status: 'succeeded', output: { ok: requestId } });
  /** Answers every execute, including one sent right behind hello_ack. */
  const respond = (a: TestAgent) => {
    a.autoRespond((m) => ({ type: 'execute_result', requestId: m.requestId, status: 'succeeded', output: { ok: m.requestId } }));
    for (const id of executes(a)) reply(a, id);
  };

  const node = (id: string) => ({
    id,
    type: 'connector.action',
    config: { connectorId: 'http', actionId: 'request', input: { method: 'GET', url: 'http://127.0.0.1:9/' }, execution: { mode: 'node' } },
  });
  const queueDepth = () => gateway!.explain({ organizationId: orgId, kind: 'connector.action' }).queue.depth;
  const events = async (runId: string) =>
    (
      await pool.query<{ type: string; node_id: string | null; payload: Record<string, unknown> }>(
        'SELECT type, node_id, payload FROM workflow_run_events WHERE run_id = $1 ORDER BY seq',
        [runId],
      )
    ).rows;
  const status = async (runId: string) =>
    (await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId])).rows[0]!.status;

  async function worker(): Promise<WorkerHost> {
    const host = await startWorkerHost({
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: `http://127.0.0.1:${port}`,
        GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
        WORKFLOW_CONTINUATION_POLL_MS: '100',
        WORKFLOW_NODE_RETRY_DELAY_MS: '10',
      },
      pool,
    });
    hosts.push(host);
    return host;
  }

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    orgId = (await bootstrapOrganization(pool, { orgName: 'q', email: `${schema}@q.test` })).orgId;
  });

  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.close();
    for (const a of agents.splice(0)) await a.close();
    await stopGateway();
  });

  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('an agent connecting after the node was queued runs it with no failed attempt; node_queued explains the wait', async () => {
    await startGateway();
    const host = await worker();
    const runId = await insertRun(pool, orgId, [node('n1')]);
    await host.runQueue.enqueue({ runId, organizationId: orgId });
    // Observed queued (in the gateway and as a run event) before any agent exists.
    await vi.waitFor(async () => expect((await events(runId)).map((e) => e.type)).toContain('node_queued'), { timeout: 15_000 });
    expect(queueDepth()).toBe(1);
    const queued = (await events(runId)).find((e) => e.type === 'node_queued')!;
    expect(queued.payload).toMatchObject({
      requestId: `${runId}:n1:0`,
      attempt: 0,
      position: 1,
      explanation: { connected: 0, excluded: { kind: 0, connector: 0, selector: 0, capacity: 0 } },
    });
    expect(String((queued.payload.explanation as { message: string }).message)).toMatch(/no agent available/);
    const a = await agent();
    respond(a);
    await vi.waitFor(async () => expect(await status(runId)).toBe('succeeded'), { timeout: 15_000 });
    const types = (await events(runId)).map((e) => e.type);
    expect(types).toEqual(['run_started', 'node_started', 'node_dispatched', 'node_queued', 'node_succeeded', 'run_succeeded']);
    expect(executes(a)).toEqual([`${runId}:n1:0`]);
    // Queued before any agent existed: node_dispatched names the agent once the result does.
    const dispatched = (await events(runId)).find((e) => e.type === 'node_dispatched')!;
    expect(dispatched.payload.agentId).toMatch(/^agent-\d+$/);
  });

  it('a maxInFlight 1 agent runs 5 queued nodes one by one, in queue order', async () => {
    await startGateway();
    const host = await worker();
    const runs: string[] = [];
    for (let i = 0; i < 5; i++) runs.push(await insertRun(pool, orgId, [node('only')]));
    for (const runId of runs) await host.runQueue.enqueue({ runId, organizationId: orgId });
    await vi.waitFor(() => expect(queueDepth()).toBe(5), { timeout: 15_000 });
    // The order the gateway holds them in (the worker dispatches runs concurrently).
    const position = (runId: string) =>
      gateway!.explain({ organizationId: orgId, kind: 'connector.action', requestId: `${runId}:only:0` }).queue.position!;
    const expected = [...runs].sort((x, y) => position(x) - position(y)).map((r) => `${r}:only:0`);
    const a = await agent(1);
    for (let i = 0; i < 5; i++) {
      await vi.waitFor(() => expect(executes(a)).toHaveLength(i + 1), { timeout: 15_000 });
      // One at a time: the next execute comes only after this result.
      expect(executes(a)).toEqual(expected.slice(0, i + 1));
      reply(a, expected[i]!);
    }
    for (const runId of runs) await vi.waitFor(async () => expect(await status(runId)).toBe('succeeded'), { timeout: 15_000 });
    for (const runId of runs) expect((await events(runId)).filter((e) => e.type === 'node_failed')).toEqual([]);
    expect(executes(a)).toEqual(expected);
  });

  it('a gateway restart with queued nodes: the runner re-dispatches the same ids and each node runs exactly once', async () => {
    await startGateway();
    const host = await worker();
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) runs.push(await insertRun(pool, orgId, [node('r')]));
    for (const runId of runs) await host.runQueue.enqueue({ runId, organizationId: orgId });
    await vi.waitFor(() => expect(queueDepth()).toBe(3), { timeout: 15_000 });
    await stopGateway();
    await startGateway();
    // The runner's polls re-dispatch each still-queued cursor with its request id: the new gateway's queue fills again.
    await vi.waitFor(() => expect(queueDepth()).toBe(3), { timeout: 15_000 });
    const a = await agent();
    respond(a);
    for (const runId of runs) await vi.waitFor(async () => expect(await status(runId)).toBe('succeeded'), { timeout: 15_000 });
    expect([...executes(a)].sort()).toEqual(runs.map((r) => `${r}:r:0`).sort());
    for (const runId of runs) {
      const types = (await events(runId)).map((e) => e.type);
      expect(types.filter((t) => t === 'node_succeeded')).toHaveLength(1);
      expect(types).not.toContain('node_failed');
    }
  });
});
