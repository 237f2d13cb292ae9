import { request } from 'node:http';
import { ROUTES, generateToken } from '@vespid/protocol';
import { staticAuthenticator } from '@vespid/sdk-gateway';
import { connectTestAgent } from '@vespid/sdk-gateway/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConfigError, gatewayHostConfigFromEnv } from './config.js';
import { type GatewayHost, startGatewayHost } from './host.js';

const ORG = 'org-listeners';
const token = generateToken(ORG);
const SERVICE = 'svc-listeners-token-0123456789';
const baseEnv = {
  NODE_ENV: 'test',
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  GATEWAY_LOG_LEVEL: 'silent',
  GATEWAY_SERVICE_TOKEN: SERVICE,
};
const start = (env: Record<string, string>) =>
  startGatewayHost(
    { ...baseEnv, ...env },
    { authenticator: staticAuthenticator([{ token, agentId: 'a1', organizationId: ORG, tags: [] }]) },
  );

/** A WebSocket upgrade request at `path`; resolves with the HTTP answer when the server refuses it. */
const upgradeAt = (base: string, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${base}${path}`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        authorization: `Bearer ${token}`,
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', () => reject(new Error(`upgraded at ${path}`)));
    req.on('error', reject);
    req.end();
  });

const get = async (url: string) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${SERVICE}` } });
  return { status: res.status, text: await res.text() };
};

describe('gateway listeners', () => {
  let host: GatewayHost | undefined;
  afterEach(async () => {
    await host?.close({ timeoutMs: 1000 });
    host = undefined;
  });

  it('serves /ws, /internal/* and /metrics on one port when GATEWAY_INTERNAL_PORT is unset', async () => {
    host = await start({});
    expect(host.publicUrl).toBe(host.url);
    expect(host.internalServer).toBe(host.server);
    const agent = await connectTestAgent({ url: host.wsUrl, token });
    expect((await get(`${host.url}${ROUTES.sessions}?organizationId=${ORG}`)).status).toBe(200);
    expect((await get(`${host.url}/metrics`)).text).toContain('vespid_gateway_connected_agents');
    // The dispatch channel is served with the internal API (an agent token is not the service token).
    expect((await upgradeAt(host.url, ROUTES.channel)).status).toBe(401);
    await agent.close();
  });

  it('with GATEWAY_INTERNAL_PORT, the public port answers 404 for /internal/* and /metrics and the internal one has no /ws', async () => {
    host = await start({ GATEWAY_INTERNAL_PORT: '0' });
    expect(host.publicUrl).not.toBe(host.url);
    // Public: agents connect, health answers, the internal API and metrics do not exist.
    const agent = await connectTestAgent({ url: host.wsUrl, token });
    expect((await get(`${host.publicUrl}/healthz`)).status).toBe(200);
    for (const path of [ROUTES.sessions, ROUTES.dispatch, '/internal/v1/results/x:y:1', '/metrics']) {
      const res = await get(`${host.publicUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.text)).toEqual({ code: 'NOT_FOUND', message: 'not found' });
    }
    // Internal: the API, metrics and health answer; a WebSocket upgrade is not served there.
    const sessions = await get(`${host.url}${ROUTES.sessions}?organizationId=${ORG}`);
    expect(sessions.status).toBe(200);
    expect(sessions.text).toContain('a1');
    expect((await get(`${host.url}/metrics`)).text).toContain('vespid_gateway_connected_agents');
    expect((await get(`${host.url}/readyz`)).status).toBe(200);
    await expect(connectTestAgent({ url: `${host.url.replace('http', 'ws')}/ws`, token })).rejects.toThrow();
    // The workers' dispatch channel is internal: unknown on the public port, served (token first) on the internal one.
    expect((await upgradeAt(host.publicUrl, ROUTES.channel)).status).toBe(404);
    expect(await upgradeAt(host.url, ROUTES.channel)).toMatchObject({ status: 401, body: expect.stringContaining('UNAUTHORIZED') });
    await agent.close();
  });

  it("answers 404 with a hint (instead of hanging) to an upgrade on a path other than GATEWAY_WS_URL's", async () => {
    host = await start({});
    const res = await upgradeAt(host.publicUrl, '/agents');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('agents connect to /ws') });
    const agent = await connectTestAgent({ url: host.wsUrl, token });
    await agent.close();
  });

  it('refuses an internal port equal to the public one and GATEWAY_INTERNAL_HOST without a port', () => {
    expect(() => gatewayHostConfigFromEnv({ ...baseEnv, GATEWAY_PORT: '3002', GATEWAY_INTERNAL_PORT: '3002' })).toThrow(GatewayConfigError);
    expect(() => gatewayHostConfigFromEnv({ ...baseEnv, GATEWAY_INTERNAL_HOST: '10.0.0.1' })).toThrow(/GATEWAY_INTERNAL_PORT/);
    expect(gatewayHostConfigFromEnv({ ...baseEnv, GATEWAY_INTERNAL_PORT: '3003' }).internalListener).toEqual({
      host: '127.0.0.1',
      port: 3003,
    });
    expect(gatewayHostConfigFromEnv(baseEnv).internalListener).toBeUndefined();
  });
});
