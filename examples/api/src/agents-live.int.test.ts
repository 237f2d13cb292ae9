/**
 * The agents list merges the gateway's live sessions (`live` per agent) when configured, and answers
 * normally without them when the gateway is missing the route, refuses, or is down.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../test/services.js';
import { LIVE_SESSIONS_ROUTE, gatewayLiveSessions } from './live-sessions.js';
import { type TestApi, startTestApi } from '../test/testing.js';

const SERVICE_TOKEN = `svc_live_canary_${Math.random().toString(36).slice(2)}`;

await describeWith(['postgres', 'redis'], 'api agents list with live gateway data', () => {
  let api: TestApi;
  let gateway: Server;
  let org: { orgId: string; accessToken: string };
  let mode: 'sessions' | 'missing' | 'down' = 'sessions';
  const agentIds: string[] = [];
  let source: ReturnType<typeof gatewayLiveSessions> | undefined;

  beforeAll(async () => {
    gateway = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (mode === 'down') return req.socket.destroy();
      if (mode === 'missing' || url.pathname !== LIVE_SESSIONS_ROUTE) {
        return res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"NOT_FOUND","message":"route not found"}');
      }
      if (req.headers.authorization !== `Bearer ${SERVICE_TOKEN}`) return res.writeHead(401).end();
      const orgId = url.searchParams.get('organizationId');
      const sessions =
        orgId === org.orgId ? [{ agentId: agentIds[0], sessionId: 's1', inFlight: 2, maxInFlight: 5, kinds: ['agent.execute'] }] : [];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sessions }));
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    source = gatewayLiveSessions({
      url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`,
      serviceToken: SERVICE_TOKEN,
      timeoutMs: 1000,
    });
    api = await startTestApi({}, { liveSessions: source });
    org = await api.org('Live');
    for (const name of ['connected', 'idle']) {
      const t = await api.call('POST', `/v1/orgs/${org.orgId}/agents/pairing-tokens`, { token: org.accessToken });
      const paired = await api.call('POST', '/v1/agents/pair', { body: { pairingToken: t.body.pairingToken, name } });
      agentIds.push(paired.body.agentId);
    }
  });
  afterAll(async () => {
    await api?.close();
    await source?.close();
    gateway?.closeAllConnections();
    await new Promise<void>((r) => gateway?.close(() => r()));
  });

  it('merges the session of a connected agent and null for the others', async () => {
    mode = 'sessions';
    const res = await api.call('GET', `/v1/orgs/${org.orgId}/agents`, { token: org.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.live).toBe('gateway');
    expect(res.body.agents.map((a: any) => [a.name, a.live?.inFlight ?? a.live])).toEqual([
      ['connected', 2],
      ['idle', null],
    ]);
    expect(res.body.agents[0].live).toMatchObject({ sessionId: 's1', maxInFlight: 5, kinds: ['agent.execute'], connectors: null });
    const one = await api.call('GET', `/v1/orgs/${org.orgId}/agents/${agentIds[0]}`, { token: org.accessToken });
    expect(one.body.live.inFlight).toBe(2);
  });

  it('a gateway without the route or one that drops the connection leaves the list intact, without live data', async () => {
    for (const m of ['missing', 'down'] as const) {
      mode = m;
      const res = await api.call('GET', `/v1/orgs/${org.orgId}/agents`, { token: org.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.live).toBe('unavailable');
      expect(res.body.agents).toHaveLength(2);
      expect(res.body.agents.every((a: any) => !('live' in a))).toBe(true);
    }
    expect(api.logs.join('\n')).not.toContain(SERVICE_TOKEN);
  });
});
