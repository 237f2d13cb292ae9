import { describe, expect, it } from 'vitest';
import { gatewayOptionsFromEnv } from './env.js';
import { resolveGatewayOptions } from './options.js';
import { staticAuthenticator } from './authenticator.js';

describe('gatewayOptionsFromEnv', () => {
  it('applies the runbook defaults', () => {
    expect(gatewayOptionsFromEnv({})).toEqual({
      host: '0.0.0.0',
      port: 3002,
      logLevel: 'info',
      staleMs: 60_000,
      selection: 'least_in_flight_lru',
      serviceToken: undefined,
      httpUrl: 'http://localhost:3002',
      wsUrl: 'ws://localhost:3002/ws',
      resultsTtlSec: 900,
    });
  });

  it('reads every variable and treats empty strings as unset', () => {
    const env = gatewayOptionsFromEnv({
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_LOG_LEVEL: 'debug',
      GATEWAY_AGENT_STALE_MS: '5000',
      GATEWAY_AGENT_SELECTION: 'round_robin',
      GATEWAY_SERVICE_TOKEN: 'svc',
      GATEWAY_HTTP_URL: 'http://gw:1',
      GATEWAY_WS_URL: 'ws://gw:1/ws',
      GATEWAY_RESULTS_TTL_SEC: '60',
    });
    expect(env).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      selection: 'round_robin',
      staleMs: 5000,
      resultsTtlSec: 60,
      serviceToken: 'svc',
    });
    expect(gatewayOptionsFromEnv({ GATEWAY_PORT: '' }).port).toBe(3002);
  });

  it('names the bad variable without echoing values', () => {
    expect(() => gatewayOptionsFromEnv({ GATEWAY_AGENT_SELECTION: 'random' })).toThrow(/GATEWAY_AGENT_SELECTION/);
    expect(() => gatewayOptionsFromEnv({ GATEWAY_PORT: 'abc', GATEWAY_SERVICE_TOKEN: 'canary-token-value' })).toThrow(/GATEWAY_PORT/);
    try {
      gatewayOptionsFromEnv({ GATEWAY_RESULTS_TTL_SEC: 'canary-secret' });
    } catch (err) {
      expect((err as Error).message).not.toContain('canary-secret');
    }
  });

  it('spreads into gateway options', () => {
    const o = resolveGatewayOptions({
      ...gatewayOptionsFromEnv({ GATEWAY_AGENT_SELECTION: 'round_robin' }),
      authenticator: staticAuthenticator([]),
    });
    expect(o.selection.name).toBe('round_robin');
    expect(o.heartbeatMs).toBe(20_000);
    expect(o.maxPayloadBytes).toBe(1024 * 1024);
    expect(() => resolveGatewayOptions({ authenticator: {} as never })).toThrow(/authenticator/);
  });
});
