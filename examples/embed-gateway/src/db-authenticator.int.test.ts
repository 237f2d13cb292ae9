import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { myAgentsTable } from './db-authenticator.js';
import { startNodeHttpGateway } from './node-http.js';
import { connectEchoAgent } from '../test/test-agent.js';

await describeWith(['postgres'], 'myAgentsTable (AgentAuthenticator over your own database)', () => {
  const schema = uniquePrefix('embed').replace(/[^a-z0-9_]/g, '_');
  let pool: pg.Pool;
  let agents: ReturnType<typeof myAgentsTable>;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    agents = myAgentsTable(pool, schema);
    await agents.migrate();
  });
  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('accepts a created agent, refuses unknown, foreign-org and revoked tokens, and stores only hashes', async () => {
    const { agentId, token } = await agents.create({ organizationId: 'acme', name: 'edge-1', tags: ['group:alpha'] });
    const ctx = { remoteAddress: '127.0.0.1' };
    expect(await agents.authenticator.authenticate(token, ctx)).toEqual({
      ok: true,
      agent: { agentId, organizationId: 'acme', tags: ['group:alpha'], maxInFlight: null },
    });
    expect(await agents.authenticator.authenticate(`acme.${'x'.repeat(43)}`, ctx)).toEqual({ ok: false, reason: 'invalid' });
    expect(await agents.authenticator.authenticate(token.replace(/^acme\./, 'other.'), ctx)).toEqual({ ok: false, reason: 'invalid' });
    expect(await agents.authenticator.authenticate('garbage', ctx)).toEqual({ ok: false, reason: 'invalid' });
    const dump = JSON.stringify((await pool.query(`SELECT * FROM "${schema}".agents`)).rows);
    expect(dump).not.toContain(token.split('.')[1]);
    await agents.revoke(agentId);
    expect(await agents.authenticator.authenticate(token, ctx)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('lets a real agent connect through a gateway that uses it', async () => {
    const { agentId, token } = await agents.create({ organizationId: 'acme', name: 'edge-2' });
    const host = await startNodeHttpGateway({ authenticator: agents.authenticator, serviceToken: 'svc', port: 0 });
    try {
      const agent = await connectEchoAgent(host.wsUrl, token);
      expect(host.gateway.listSessions().map((s) => s.agentId)).toEqual([agentId]);
      const result = await host.gateway.dispatch({ organizationId: 'acme', requestId: 'db-auth-1', kind: 'example.echo', payload: 1 });
      expect(result).toMatchObject({ status: 'succeeded', agentId });
      await agent.close({ timeoutMs: 2_000 });
    } finally {
      await host.close();
    }
  });
});
