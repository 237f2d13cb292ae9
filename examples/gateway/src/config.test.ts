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

  it('reads GATEWAY_ORG_MAX_QUEUED (default 10000) and refuses a bad value', () => {
    expect(gatewayHostConfigFromEnv({ NODE_ENV: 'test' }).orgMaxQueued).toBe(10_000);
    expect(gatewayHostConfigFromEnv({ NODE_ENV: 'test', GATEWAY_ORG_MAX_QUEUED: '50' }).orgMaxQueued).toBe(50);
    expect(() => gatewayHostConfigFromEnv({ NODE_ENV: 'test', GATEWAY_ORG_MAX_QUEUED: '0' })).toThrow(
      /GATEWAY_ORG_MAX_QUEUED must be an integer >= 1/,
    );
  });

  it('reads cluster mode (GATEWAY_CLUSTER=redis) and refuses it without REDIS_URL or with bad values', () => {
    const base = { NODE_ENV: 'test', REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(gatewayHostConfigFromEnv(base).cluster).toBeNull();
    expect(gatewayHostConfigFromEnv({ ...base, GATEWAY_CLUSTER: 'redis' }).cluster).toEqual({
      replicaId: undefined,
      keyPrefix: 'gateway:cluster:',
      presenceTtlMs: 15_000,
      orgMaxInFlight: undefined,
    });
    expect(
      gatewayHostConfigFromEnv({
        ...base,
        GATEWAY_CLUSTER: 'redis',
        GATEWAY_REPLICA_ID: 'gw-2',
        GATEWAY_CLUSTER_KEY_PREFIX: 'x:',
        GATEWAY_CLUSTER_PRESENCE_TTL_MS: '5000',
        GATEWAY_ORG_MAX_IN_FLIGHT: '200',
      }).cluster,
    ).toEqual({ replicaId: 'gw-2', keyPrefix: 'x:', presenceTtlMs: 5000, orgMaxInFlight: 200 });
    expect(() => gatewayHostConfigFromEnv({ NODE_ENV: 'test', GATEWAY_CLUSTER: 'redis' })).toThrow(/needs REDIS_URL/);
    expect(() => gatewayHostConfigFromEnv({ ...base, GATEWAY_CLUSTER: 'etcd' })).toThrow(/GATEWAY_CLUSTER must be "redis"/);
    expect(() => gatewayHostConfigFromEnv({ ...base, GATEWAY_CLUSTER: 'redis', GATEWAY_REPLICA_ID: 'a b' })).toThrow(/GATEWAY_REPLICA_ID/);
    expect(() => gatewayHostConfigFromEnv({ ...base, GATEWAY_CLUSTER: 'redis', GATEWAY_ORG_MAX_IN_FLIGHT: '0' })).toThrow(
      /GATEWAY_ORG_MAX_IN_FLIGHT must be an integer >= 1/,
    );
  });

  it('reads REDIS_CLUSTER_NODES (host:port seeds) as the Redis of results and cluster mode, and refuses a bad entry without echoing it', () => {
    const seeds = { NODE_ENV: 'test', REDIS_CLUSTER_NODES: ' 10.0.0.1:7000,redis-2.internal:7001 , [::1]:7002' };
    const c = gatewayHostConfigFromEnv(seeds);
    expect(c.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(c.resultStore).toBe('redis');
    expect(c.redisUrl).toBeUndefined();
    // Cluster mode and production results accept the Cluster in place of REDIS_URL.
    expect(gatewayHostConfigFromEnv({ ...seeds, GATEWAY_CLUSTER: 'redis' }).cluster).toMatchObject({ keyPrefix: 'gateway:cluster:' });
    const prod = { NODE_ENV: 'production', GATEWAY_SERVICE_TOKEN: 'svc-token-for-config-test', REDIS_CLUSTER_NODES: '127.0.0.1:7000' };
    expect(gatewayHostConfigFromEnv(prod).resultStore).toBe('redis');
    expect(gatewayHostConfigFromEnv({ ...prod, GATEWAY_RESULT_STORE: 'redis' }).redisClusterNodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
    ]);
    // Unset or blank: standalone Redis as before.
    expect(
      gatewayHostConfigFromEnv({ NODE_ENV: 'test', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: ' ' }).redisClusterNodes,
    ).toBeUndefined();
    const canary = 'cluster-pass-canary-51ad';
    for (const bad of [
      `redis://:${canary}@10.0.0.1:7000`,
      `10.0.0.1:7000,10.0.0.2`,
      '10.0.0.1:0',
      '10.0.0.1:70000',
      'host:7000,,host:7001',
    ]) {
      let message = '';
      try {
        gatewayHostConfigFromEnv({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: bad });
      } catch (err) {
        expect(err).toBeInstanceOf(GatewayConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(/^REDIS_CLUSTER_NODES entry \d+ of \d+ is not host:port/);
      expect(message).not.toContain(canary);
    }
    expect(() => gatewayHostConfigFromEnv({ NODE_ENV: 'test', GATEWAY_CLUSTER: 'redis' })).toThrow(
      /needs REDIS_URL or REDIS_CLUSTER_NODES/,
    );
  });

  it('refuses a production gateway without Redis unless memory results are chosen by name (GATEWAY_RESULT_STORE)', async () => {
    const prod = { NODE_ENV: 'production', GATEWAY_SERVICE_TOKEN: 'svc-token-for-config-test' };
    let message = '';
    try {
      gatewayHostConfigFromEnv(prod);
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^NODE_ENV=production without REDIS_URL .*GATEWAY_RESULT_STORE=memory/);
    expect(message).not.toContain('\n');
    await expect(startGatewayHost({ ...prod, GATEWAY_PORT: '0', GATEWAY_LOG_LEVEL: 'silent' })).rejects.toThrow(/REDIS_URL/);

    expect(gatewayHostConfigFromEnv({ ...prod, GATEWAY_RESULT_STORE: 'memory' }).resultStore).toBe('memory');
    expect(gatewayHostConfigFromEnv({ ...prod, REDIS_URL: 'redis://127.0.0.1:6379' }).resultStore).toBe('redis');
    expect(gatewayHostConfigFromEnv({ ...prod, REDIS_URL: 'redis://127.0.0.1:6379', GATEWAY_RESULT_STORE: 'Memory' }).resultStore).toBe(
      'memory',
    );
    // Outside production the old default holds: memory without Redis.
    expect(gatewayHostConfigFromEnv({ NODE_ENV: 'test' }).resultStore).toBe('memory');
    expect(gatewayHostConfigFromEnv({ NODE_ENV: 'development', GATEWAY_SERVICE_TOKEN: 't' }).resultStore).toBe('memory');
    expect(() => gatewayHostConfigFromEnv({ ...prod, GATEWAY_RESULT_STORE: 'redis' })).toThrow(
      /GATEWAY_RESULT_STORE=redis needs REDIS_URL/,
    );
    expect(() => gatewayHostConfigFromEnv({ ...prod, GATEWAY_RESULT_STORE: 'disk' })).toThrow(/must be "redis" or "memory"/);
    expect(() =>
      gatewayHostConfigFromEnv({ ...prod, REDIS_URL: 'redis://127.0.0.1:6379', GATEWAY_CLUSTER: 'redis', GATEWAY_RESULT_STORE: 'memory' }),
    ).toThrow(/GATEWAY_CLUSTER=redis needs GATEWAY_RESULT_STORE=redis/);
  });

  it('starts in production with memory results when they are chosen explicitly', async () => {
    const host = await startGatewayHost({
      NODE_ENV: 'production',
      GATEWAY_SERVICE_TOKEN: 'svc-token-for-config-test',
      GATEWAY_RESULT_STORE: 'memory',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_LOG_LEVEL: 'silent',
    });
    try {
      expect(host.config.resultStore).toBe('memory');
      expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
      // The gateway's dispatch validation refuses a connector.action that names no connector.
      const res = await fetch(`${host.url}/internal/v1/dispatch-async`, {
        method: 'POST',
        headers: { authorization: 'Bearer svc-token-for-config-test', 'content-type': 'application/json' },
        body: JSON.stringify({
          organizationId: 'org-1',
          requestId: 'r:n:0',
          kind: 'connector.action',
          payload: { actionId: 'request', input: {} },
        }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('connectorId') });
    } finally {
      await host.close({ timeoutMs: 1000 });
    }
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
