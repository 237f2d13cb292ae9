/**
 * The worker applies its retry policy (retry-policy.ts) to what agents answer: a failed GET is run
 * again, a timed-out node is not (its action may have had an effect), and a connector.action node's
 * own `timeoutMs` is what the gateway receives.
 */
import { bootstrapOrganization } from '@vespid/example-api';
import { createPool, dropSchema, migrate, type Pool } from '@vespid/example-db';
import type { ExecutionResult } from '@vespid/protocol';
import { type FakeDispatchGateway, createFakeDispatchGateway } from '@vespid/sdk-dispatch/testing';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { startWorkerHost, type WorkerHost } from './host.js';
import { insertRun } from '../test/test-support.js';

const SERVICE_TOKEN = `svc_policy_${Math.random().toString(36).slice(2)}`;

await describeWith(['postgres'], 'worker retry policy on real runs', () => {
  const schema = uniquePrefix('wrp');
  let pool: Pool;
  let orgId: string;
  let gw: FakeDispatchGateway;
  let host: WorkerHost;
  // What the fake agent answers, by node id and attempt.
  const answers: Record<string, ExecutionResult[]> = {
    get: [
      { status: 'failed', error: { code: 'HTTP_REQUEST_FAILED', message: 'connection reset', retryable: true } },
      { status: 'succeeded', output: 1 },
    ],
    slow: [{ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT', message: 'no answer in time', retryable: true } }],
  };

  const node = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'connector.action',
    config: {
      connectorId: 'http',
      actionId: 'request',
      input: { method: 'GET', url: 'https://x.test' },
      execution: { mode: 'node' },
      ...extra,
    },
  });

  async function finish(runId: string) {
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
        if (rows[0]!.status !== 'succeeded' && rows[0]!.status !== 'failed') throw new Error(`run is ${rows[0]!.status}`);
      },
      { timeout: 20_000, interval: 25 },
    );
    const { rows } = await pool.query<{ type: string; payload: any }>(
      "SELECT type, payload FROM workflow_run_events WHERE run_id = $1 AND type IN ('node_failed', 'node_succeeded', 'run_failed', 'run_succeeded') ORDER BY seq",
      [runId],
    );
    return rows.map((r) => [r.type, r.payload.attempt ?? null, r.payload.error?.code ?? null, r.payload.willRetry ?? null]);
  }

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    orgId = (await bootstrapOrganization(pool, { orgName: 'p', email: `${schema}@p.test` })).orgId;
    gw = createFakeDispatchGateway({
      serviceToken: SERVICE_TOKEN,
      execute: (request) => {
        const [, nodeId, attempt] = request.requestId.split(':');
        return answers[nodeId!]?.[Number(attempt)] ?? { status: 'failed', error: { code: 'BAD_REQUEST', message: 'unexpected attempt' } };
      },
    });
    await gw.start();
    host = await startWorkerHost({
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: gw.url,
        GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
        WORKFLOW_CONTINUATION_POLL_MS: '50',
        WORKFLOW_NODE_RETRY_DELAY_MS: '10',
      },
      pool,
    });
  });

  afterAll(async () => {
    await host?.close();
    await gw?.close();
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('runs a GET again after HTTP_REQUEST_FAILED', async () => {
    const runId = await insertRun(pool, orgId, [node('get')]);
    await host.runQueue.enqueue({ runId, organizationId: orgId });
    expect(await finish(runId)).toEqual([
      ['node_failed', 0, 'HTTP_REQUEST_FAILED', true],
      ['node_succeeded', 1, null, null],
      ['run_succeeded', null, null, null],
    ]);
  });

  it('does not run a timed-out node again, and sends the node its own timeoutMs', async () => {
    const runId = await insertRun(pool, orgId, [node('slow', { timeoutMs: 1234 })]);
    await host.runQueue.enqueue({ runId, organizationId: orgId });
    expect(await finish(runId)).toEqual([
      ['node_failed', 0, 'NODE_EXECUTION_TIMEOUT', false],
      ['run_failed', null, 'NODE_EXECUTION_TIMEOUT', null],
    ]);
    expect(gw.accepted.filter((a) => a.requestId.startsWith(runId)).map((a) => a.timeoutMs)).toEqual([1234]);
  });
});
