import { describe, expect, it } from 'vitest';
import { GatewayConfigError, gatewayHostConfigFromEnv } from './config.js';
import { startGatewayHost } from './host.js';

describe('gateway host config', () => {
  it('refuses to start without GATEWAY_SERVICE_TOKEN outside tests, with one clear line', async () => {
    expect(() => gatewayHostConfigFromEnv({ NODE_ENV: 'production' })).toThrow(GatewayConfigError);
    expect(() => gatewayHostConfigFromEnv({})).toThrow(/GATEWAY_SERVICE_TOKEN is required/);
    await expect(startGatewayHost({ GATEWAY_PORT: '0' })).rejects.toThrow(/GATEWAY_SERVICE_TOKEN/);
  });

  it('uses the runbook defaults and derives the WebSocket path from GATEWAY_WS_URL', () => {
    const c = gatewayHostConfigFromEnv({ NODE_ENV: 'test' });
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 3002,
      logLevel: 'info',
      staleMs: 60_000,
      selection: 'least_in_flight_lru',
      resultsTtlSec: 900,
      wsPath: '/ws',
    });
    expect(gatewayHostConfigFromEnv({ NODE_ENV: 'test', GATEWAY_WS_URL: 'wss://gw.example.com/agents' }).wsPath).toBe('/agents');
  });

  it('starts in test mode with memory results and a generated service token', async () => {
    const host = await startGatewayHost({ NODE_ENV: 'test', GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_LOG_LEVEL: 'silent' });
    try {
      expect(host.serviceToken.length).toBeGreaterThan(20);
      expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
      const res = await fetch(`${host.url}/internal/v1/results/x:1`, { headers: { authorization: `Bearer ${host.serviceToken}` } });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'RESULT_NOT_READY' });
    } finally {
      await host.close({ timeoutMs: 1000 });
    }
    expect(host.gateway.closed).toBe(true);
  });
});
