import { describe, expect, it } from 'vitest';
import { apiConfigFromEnv } from './config.js';

describe('api config from env', () => {
  it('uses the runbook defaults', () => {
    expect(apiConfigFromEnv({})).toMatchObject({
      host: '0.0.0.0',
      port: 3001,
      gatewayWsUrl: 'ws://localhost:3002/ws',
      agentStaleMs: 60_000,
      logLevel: 'info',
    });
  });

  it('clamps GATEWAY_AGENT_STALE_MS to [30 s, 5 min]', () => {
    expect(apiConfigFromEnv({ GATEWAY_AGENT_STALE_MS: '1000' }).agentStaleMs).toBe(30_000);
    expect(apiConfigFromEnv({ GATEWAY_AGENT_STALE_MS: '90000' }).agentStaleMs).toBe(90_000);
    expect(apiConfigFromEnv({ GATEWAY_AGENT_STALE_MS: '3600000' }).agentStaleMs).toBe(300_000);
  });

  it('reads API_* and GATEWAY_WS_URL, and names invalid variables', () => {
    expect(apiConfigFromEnv({ API_PORT: '4000', API_HOST: '127.0.0.1', GATEWAY_WS_URL: 'wss://gw.example/ws' })).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      gatewayWsUrl: 'wss://gw.example/ws',
    });
    expect(() => apiConfigFromEnv({ API_PORT: 'abc' })).toThrow(/port/);
    expect(() => apiConfigFromEnv({ GATEWAY_WS_URL: 'not a url' })).toThrow(/gatewayWsUrl/);
  });
});
