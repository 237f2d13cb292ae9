import { createPool, dropSchema, migrate, type Pool } from '@vespid/example-db';
import { CloseCode, ROUTES, generateToken, hashToken } from '@vespid/protocol';
import { connectTestAgent } from '@vespid/sdk-gateway/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { CONTROL_CHANNEL } from './control-channel.js';
import { type GatewayHost, startGatewayHost } from './host.js';
import { waitFor } from '../../../test/support/wait-for.js';

await describeWith(['postgres', 'redis'], 'gateway host (Postgres auth, Redis results, control channel)', () => {
  const schema = uniquePrefix('gw').toLowerCase();
  let pool: Pool;
  let redis: Redis;
  let host: GatewayHost;
  let orgId: string;
  const logs: string[] = [];
  const SERVICE_TOKEN = 'svc-canary-Zq81-service-token';
  const SECRET = 'CANARY-SECRET-host-91xk';

  async function addAgent(name: string, tags: string[] = [], extra: { revoked?: boolean; maxInFlight?: number } = {}) {
    const token = generateToken(orgId);
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO organization_agents (organization_id, name, token_hash, tags, max_in_flight, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [orgId, name, hashToken(token), tags, extra.maxInFlight ?? null, extra.revoked ? new Date() : null],
    );
    return { id: rows[0]!.id, token };
  }

  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema });
    await migrate(pool, { schema });
    orgId = (await pool.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('acme') RETURNING id`)).rows[0]!.id;
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    host = await startGatewayHost(
      {
        NODE_ENV: 'production',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        GATEWAY_LOG_LEVEL: 'debug',
        GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
        GATEWAY_AGENT_STALE_MS: '2000',
        GATEWAY_AGENT_SELECTION: 'round_robin',
        GATEWAY_RESULTS_TTL_SEC: '60',
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        REDIS_URL,
      },
      { logDestination: { write: (line: string) => void logs.push(line) } },
    );
  });

  afterAll(async () => {
    await host?.close({ timeoutMs: 2000 });
    await dropSchema(pool, schema).catch(() => {});
    await pool?.end();
    redis?.disconnect();
  });

  const call = async (method: string, path: string, body?: unknown, token = SERVICE_TOKEN) => {
    const res = await fetch(`${host.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${host.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${host.url}/metrics`)).text();
    expect(metrics).toContain('vespid_gateway_connected_agents');
  });

  it('authenticates agents from organization_agents, routes by control-plane tags and records liveness', async () => {
    const a = await addAgent('alpha', ['group:alpha']);
    const agent = await connectTestAgent({ url: host.wsUrl, token: a.token, capabilities: { tags: ['reported-x'] } });
    try {
      agent.autoRespond();
      const res = await call('POST', ROUTES.dispatch, {
        organizationId: orgId,
        requestId: `run-${schema}:n1:0`,
        kind: 'agent.execute',
        payload: { hello: 1 },
        secret: SECRET,
        selector: { group: 'alpha' },
      });
      expect(res).toEqual({ status: 200, body: { requestId: `run-${schema}:n1:0`, status: 'succeeded', output: { echo: { hello: 1 } } } });
      const stored = JSON.parse((await redis.get(`gateway:results:run-${schema}:n1:0`)) ?? 'null');
      expect(stored).toMatchObject({ organizationId: orgId, agentId: a.id, status: 'succeeded' });
      agent.send({ type: 'ping', ts: 1 });
      await agent.next('pong');
      const row = await waitFor(async () => {
        const now = (await pool.query('SELECT last_seen_at, reported_tags FROM organization_agents WHERE id = $1', [a.id])).rows[0];
        if (!now?.last_seen_at || !now.reported_tags.length) throw new Error(`row is ${JSON.stringify(now)}`);
        return now as { last_seen_at: Date | null; reported_tags: string[] };
      }, 'last_seen_at and reported_tags written');
      expect(row?.last_seen_at).toBeInstanceOf(Date);
      expect(row?.reported_tags).toEqual(['reported-x']);
    } finally {
      await agent.close();
    }
  });

  it('refuses unknown (401) and revoked (403) tokens before upgrading', async () => {
    const revoked = await addAgent('old', [], { revoked: true });
    await expect(connectTestAgent({ url: host.wsUrl, token: revoked.token })).rejects.toThrow(/HTTP 403/);
    await expect(connectTestAgent({ url: host.wsUrl, token: generateToken(orgId) })).rejects.toThrow(/HTTP 401/);
    expect((await call('POST', ROUTES.dispatch, {}, 'wrong')).status).toBe(401);
  });

  it('applies vespid:control events: new tags route at once, revocation closes the session with 4403', async () => {
    const b = await addAgent('beta');
    const agent = await connectTestAgent({ url: host.wsUrl, token: b.token });
    try {
      agent.autoRespond();
      const req = (n: number) => ({
        organizationId: orgId,
        requestId: `run-${schema}:tag${n}:0`,
        kind: 'agent.execute',
        payload: {},
        selector: { tag: 'gpu' },
      });
      expect((await call('POST', ROUTES.dispatch, req(1))).status).toBe(503);
      await redis.publish(CONTROL_CHANNEL, JSON.stringify({ type: 'agent_tags_updated', agentId: b.id, tags: ['gpu'] }));
      let i = 0;
      await waitFor(async () => (await call('POST', ROUTES.dispatch, req(10 + i++))).status === 200, 'a gpu dispatch accepted');
      await pool.query('UPDATE organization_agents SET revoked_at = now() WHERE id = $1', [b.id]);
      await redis.publish(CONTROL_CHANNEL, JSON.stringify({ type: 'agent_revoked', agentId: b.id }));
      expect(await agent.closedWith).toBe(CloseCode.Revoked);
      await expect(connectTestAgent({ url: host.wsUrl, token: b.token })).rejects.toThrow(/HTTP 403/);
    } finally {
      await agent.close();
    }
  });

  it('writes one info line per settled dispatch with agent name, request id, duration and outcome', () => {
    const settled = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'dispatch settled');
    const line = settled.find((l) => l.requestId === `run-${schema}:n1:0`);
    expect(line).toMatchObject({ level: 30, agent: 'alpha', kind: 'agent.execute', status: 'succeeded', organizationId: orgId });
    expect(line.durationMs).toBeTypeOf('number');
    expect(settled.filter((l) => l.requestId === `run-${schema}:n1:0`)).toHaveLength(1);
    // Ids, outcome and timing only: the payload and the secret of the request stay out.
    expect(JSON.stringify(settled)).not.toContain(SECRET);
    expect(JSON.stringify(settled)).not.toContain('hello');
  });

  it('never writes the canary secret or tokens to its logs', () => {
    const all = logs.join('\n');
    expect(all).toContain('gateway listening');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(SERVICE_TOKEN);
  });
});
