/**
 * Regression (found by the chaos suite, tampered secret ciphertext): a node-mode node whose connector
 * secret fails authentication threw out of the run job, BullMQ and the sweeper retried it forever and
 * the run stayed `running`. It must fail once with SECRET_DECRYPT_FAILED, and no dispatch is made.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { bootstrapOrganization } from '@vespid/example-api';
import { createPool, dropSchema, migrate, type Pool } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { insertRun } from '../test/test-support.js';
import { startWorkerHost } from './host.js';
import { waitFor } from '../../../test/support/wait-for.js';

await describeWith(['postgres'], 'worker: undecryptable secret on a remote node', () => {
  const schema = uniquePrefix('wsec');
  let pool: Pool;
  let gateway: Server;
  let gatewayUrl = '';
  let gatewayCalls = 0;

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    // Stands in for the gateway: any call to it would be a dispatch that must not happen.
    gateway = createServer((_req, res) => {
      gatewayCalls++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"NO_AGENT_AVAILABLE","message":"none"}');
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => gateway.close(r));
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('fails the run with SECRET_DECRYPT_FAILED instead of retrying the job forever', async () => {
    const { orgId } = await bootstrapOrganization(pool, { orgName: 's', email: `${schema}@s.test` });
    const b = () => randomBytes(16);
    const secret = await pool.query<{ id: string }>(
      `INSERT INTO connector_secrets (organization_id, name, connector_id, kek_id, dek_iv, dek_ciphertext, dek_tag, value_iv, value_ciphertext, value_tag)
       VALUES ($1, 'broken', 'http', 'k1', $2, $3, $4, $5, $6, $7) RETURNING id`,
      [orgId, b(), b(), b(), b(), b(), b()],
    );
    const nodes = [
      {
        id: 'n1',
        type: 'connector.action',
        config: {
          connectorId: 'http',
          actionId: 'request',
          input: { url: 'http://127.0.0.1:9/' },
          auth: { secretId: secret.rows[0]!.id },
          execution: { mode: 'node' },
        },
      },
    ];
    const runId = await insertRun(pool, orgId, nodes);
    const host = await startWorkerHost({
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        GATEWAY_HTTP_URL: gatewayUrl,
        GATEWAY_SERVICE_TOKEN: 'svc-test-token',
        SECRETS_KEK_ID: 'k1',
        SECRETS_KEK_BASE64: randomBytes(32).toString('base64'),
      },
      pool,
    });
    try {
      await host.runQueue.enqueue({ runId, organizationId: orgId });
      const status = await waitFor(
        async () => {
          const now = (await pool.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId])).rows[0]!.status;
          return (now === 'succeeded' || now === 'failed') && now;
        },
        { what: 'the run to end', timeoutMs: 10_000, intervalMs: 50 },
      );
      expect(status).toBe('failed');
      const events = await pool.query<{ type: string; payload: Record<string, unknown> }>(
        'SELECT type, payload FROM workflow_run_events WHERE run_id = $1 ORDER BY seq',
        [runId],
      );
      expect(events.rows.at(-1)).toMatchObject({ type: 'run_failed', payload: { error: { code: 'SECRET_DECRYPT_FAILED' } } });
      expect(events.rows.filter((e) => e.type === 'node_failed')).toHaveLength(1);
      expect(gatewayCalls).toBe(0);
    } finally {
      await host.close();
    }
  });
});
