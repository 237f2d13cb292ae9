/**
 * Who ran a node: the worker (sdk-dispatch runner, Postgres) dispatches through a real gateway over
 * HTTP to a real agent runtime over WebSocket, and `node_dispatched`, `node_succeeded` and
 * `node_failed` all name the agent the gateway chose (`agentId`, `agentName`).
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema, migrate } from '@vespid/example-db';
import { generateToken } from '@vespid/protocol';
import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';
import { type Gateway, createGateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { type WorkerHost, startWorkerHost } from './host.js';
import { insertRun } from '../test/test-support.js';

const SERVICE_TOKEN = `svc-identity-${Date.now()}`;

await describeWith(['postgres'], 'worker: run events name the agent that ran the node', () => {
  const schema = uniquePrefix('wid');
  let pool: Pool;
  let orgId: string;
  let gateway: Gateway;
  let server: Server;
  let agent: Agent;
  let host: WorkerHost;

  // `hold` succeeds once the test releases it, `fail` fails with a code the worker does not retry.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  const executor: Executor = {
    kind: 'connector.action',
    connectors: ['test'],
    async execute(task) {
      const { actionId } = task.payload as { actionId: string };
      if (actionId === 'fail') return { status: 'failed', error: { code: 'TEST_FAILED', message: 'no' } };
      await held;
      return { status: 'succeeded', output: { ok: true } };
    },
  };

  const node = (id: string, actionId: string) => ({
    id,
    type: 'connector.action',
    config: { connectorId: 'test', actionId, input: {}, execution: { mode: 'node' } },
  });

  async function finished(runId: string) {
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
        expect(['succeeded', 'failed']).toContain(rows[0]!.status);
      },
      { timeout: 20_000, interval: 50 },
    );
  }

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    orgId = (await bootstrapOrganization(pool, { orgName: 'id', email: `${schema}@id.test` })).orgId;
    const token = generateToken(orgId);
    gateway = createGateway({
      authenticator: staticAuthenticator([{ token, agentId: 'agent-ident-1', organizationId: orgId, tags: [] }]),
      serviceToken: SERVICE_TOKEN,
    });
    server = createServer(gateway.httpHandler);
    gateway.attach(server, { path: '/ws' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    agent = createAgent({ gatewayWsUrl: `ws://127.0.0.1:${port}/ws`, agentToken: token, name: 'edge-ident', executors: [executor] });
    const up = new Promise((r) => agent.on('connected', r));
    await agent.start();
    await up;
    host = await startWorkerHost({
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: `http://127.0.0.1:${port}`,
        GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
        WORKFLOW_CONTINUATION_POLL_MS: '100',
      },
      pool,
    });
  });

  afterAll(async () => {
    await host?.close();
    await agent?.close({ timeoutMs: 1000 });
    await gateway?.close({ timeoutMs: 1000 });
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await dropSchema(pool, schema);
    await pool.end();
  });

  const events = async (runId: string) =>
    (
      await pool.query<{ type: string; payload: Record<string, unknown> }>(
        'SELECT type, payload FROM workflow_run_events WHERE run_id = $1 ORDER BY seq',
        [runId],
      )
    ).rows;

  it('node_dispatched, node_succeeded and node_failed carry the agent id and name', async () => {
    const who = { agentId: 'agent-ident-1', agentName: 'edge-ident' };
    const runId = await insertRun(pool, orgId, [node('first', 'hold'), node('second', 'fail')]);
    await host.runQueue.enqueue({ runId, organizationId: orgId });
    // While the agent still runs the node, node_dispatched already names it (from the gateway's answer).
    await vi.waitFor(async () => expect((await events(runId)).find((e) => e.type === 'node_dispatched')?.payload).toMatchObject(who), {
      timeout: 20_000,
      interval: 50,
    });
    expect((await events(runId)).map((e) => e.type)).not.toContain('node_succeeded');
    release();
    await finished(runId);
    const named = (await events(runId)).filter((e) => ['node_dispatched', 'node_succeeded', 'node_failed'].includes(e.type));
    expect(named.map((e) => e.type)).toEqual(['node_dispatched', 'node_succeeded', 'node_dispatched', 'node_failed']);
    for (const e of named) expect(e.payload).toMatchObject(who);
    expect(named.at(-1)!.payload).toMatchObject({ error: { code: 'TEST_FAILED' } });
  });
});
