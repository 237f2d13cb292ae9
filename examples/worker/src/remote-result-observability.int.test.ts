/**
 * What an operator sees of a remote node result: one `node result` info line with the agent's name
 * and the time from dispatch to result (none of the secret, input or output), and the worker's
 * `/metrics` (runs by status, node latency, continuation lag).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { bootstrapOrganization } from '@vespid/example-api';
import { type Pool, createPool, dropSchema, encryptSecret, migrate, parseKek } from '@vespid/example-db';
import { type Logger, generateToken, hashToken } from '@vespid/protocol';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { startWorkerHost } from './host.js';
import { type PolledGateway, startPolledGateway } from '../test/polled-gateway.js';
import { insertRun } from '../test/test-support.js';

await describeWith(['postgres'], 'worker: node result log line', () => {
  const schema = uniquePrefix('wlog');
  const SECRET = 'CANARY-worker-secret-7f3k';
  const INPUT = 'CANARY-worker-input-p2q9';
  const OUTPUT = 'CANARY-worker-output-z8m1';
  const kek = parseKek({ kekId: 'k1', kekBase64: randomBytes(32).toString('base64') });
  let pool: Pool;
  let gateway: PolledGateway;
  let orgId = '';
  let agentId = '';
  const dispatched = new Map<string, number>();

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    // Stands in for the gateway: accepts the dispatch, then serves a result 200 ms later from agent "edge-7".
    gateway = await startPolledGateway({
      onDispatch: (id) => dispatched.set(id, Date.now()),
      result: (id) => {
        const at = dispatched.get(id);
        if (at === undefined || Date.now() - at < 200) return null;
        return { requestId: id, organizationId: orgId, status: 'succeeded', output: { body: OUTPUT }, agentId, completedAt: Date.now() };
      },
    });
  });

  afterAll(async () => {
    await gateway.close();
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('logs agent name, request id, duration and outcome, and no secret, input or output', async () => {
    ({ orgId } = await bootstrapOrganization(pool, { orgName: 'l', email: `${schema}@l.test` }));
    agentId = (
      await pool.query<{ id: string }>(
        `INSERT INTO organization_agents (organization_id, name, token_hash, tags) VALUES ($1, 'edge-7', $2, '{}') RETURNING id`,
        [orgId, hashToken(generateToken(orgId))],
      )
    ).rows[0]!.id;
    const secretId = randomUUID();
    const e = encryptSecret(kek, { organizationId: orgId, secretId }, SECRET);
    await pool.query(
      `INSERT INTO connector_secrets (id, organization_id, name, connector_id, kek_id, dek_iv, dek_ciphertext, dek_tag, value_iv, value_ciphertext, value_tag)
       VALUES ($1, $2, 'key', 'http', $3, $4, $5, $6, $7, $8, $9)`,
      [secretId, orgId, e.kekId, e.dekIv, e.dekCiphertext, e.dekTag, e.valueIv, e.valueCiphertext, e.valueTag],
    );
    const runId = await insertRun(pool, orgId, [
      {
        id: 'n1',
        type: 'connector.action',
        config: {
          connectorId: 'http',
          actionId: 'request',
          input: { url: 'http://10.0.0.1/', body: INPUT },
          auth: { secretId },
          execution: { mode: 'node' },
        },
      },
    ]);
    const lines: string[] = [];
    const capture = (level: string) => (obj: object, msg?: string) => void lines.push(JSON.stringify({ level, ...obj, msg }));
    const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
    logger.child = () => logger;
    const host = await startWorkerHost({
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: gateway.url,
        GATEWAY_SERVICE_TOKEN: 'svc-test-token-canary-11',
        SECRETS_KEK_ID: 'k1',
        SECRETS_KEK_BASE64: kek.key.toString('base64'),
        WORKFLOW_CONTINUATION_POLL_MS: '50',
        WORKFLOW_METRICS_HOST: '127.0.0.1',
        WORKFLOW_METRICS_PORT: '0',
      },
      pool,
      logger,
    });
    try {
      await host.runQueue.enqueue({ runId, organizationId: orgId });
      await vi.waitFor(() => expect(lines.some((l) => l.includes('"node result"'))).toBe(true), { timeout: 20_000, interval: 50 });
      const line = JSON.parse(lines.find((l) => l.includes('"node result"'))!);
      expect(line).toMatchObject({
        level: 'info',
        runId,
        nodeId: 'n1',
        requestId: `${runId}:n1:0`,
        agent: 'edge-7',
        agentId,
        status: 'succeeded',
      });
      expect(line.durationMs).toBeGreaterThanOrEqual(100); // the stand-in answers 200 ms after it got the dispatch
      const all = lines.join('\n');
      for (const canary of [SECRET, INPUT, OUTPUT, 'svc-test-token-canary-11']) expect(all).not.toContain(canary);

      await vi.waitFor(
        async () => {
          const text = await (await fetch(host.metricsUrl!)).text();
          expect(text).toMatch(/^vespid_worker_runs\{status="succeeded"\} 1$/m);
          expect(text).toMatch(/^vespid_worker_node_duration_seconds_count\{kind="connector.action",status="succeeded"\} 1$/m);
          expect(text).toMatch(/^vespid_worker_node_results_total\{kind="connector.action",status="succeeded",code=""\} 1$/m);
          expect(text).toMatch(/^vespid_worker_continuation_lag_seconds_count\{source="poll"\} 1$/m);
          expect(text).not.toContain(SECRET);
        },
        { timeout: 20_000, interval: 100 },
      );
    } finally {
      await host.close();
    }
  });
});
