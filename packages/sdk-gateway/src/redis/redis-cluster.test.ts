import { describe, expect, it } from 'vitest';
import { staticAuthenticator } from '../authenticator.js';
import { createGateway } from '../gateway.js';
import { redisCluster } from './index.js';

// Only option handling here: the behaviour runs against real Redis in redis-cluster.int.test.ts.
const fakeRedis = { evalsha: () => {}, duplicate: () => {} } as never;

describe('redisCluster options', () => {
  it('validates its options and names the replica', () => {
    expect(() => redisCluster({ redis: {} as never })).toThrow(/redis must be an ioredis client/);
    expect(() => redisCluster({ redis: fakeRedis, replicaId: 'has space' })).toThrow(/replicaId/);
    expect(() => redisCluster({ redis: fakeRedis, presenceTtlMs: 10 })).toThrow(TypeError);
    expect(redisCluster({ redis: fakeRedis, replicaId: 'gw-1' }).replicaId).toBe('gw-1');
    expect(redisCluster({ redis: fakeRedis }).replicaId).toMatch(/^[A-Za-z0-9._@-]+-\d+-[0-9a-f]{6}$/);
  });

  it('refuses a custom selection strategy in cluster mode (selection runs inside Redis)', () => {
    const cluster = redisCluster({ redis: fakeRedis, replicaId: 'gw-1' });
    const custom = { name: 'first_fit', select: () => undefined };
    expect(() => createGateway({ authenticator: staticAuthenticator([]), cluster, selection: custom })).toThrow(
      /cluster mode .* supports least_in_flight_lru and round_robin, not first_fit/,
    );
  });
});
