import { redisNames } from '@vespid/example-db';
import { CloseCode, ROUTES, generateToken } from '@vespid/protocol';
import { staticAuthenticator } from '@vespid/sdk-gateway';
import { connectTestAgent, type TestAgent } from '@vespid/sdk-gateway/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { redisControlBus } from '../../api/src/control-bus.js';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { type GatewayHost, startGatewayHost } from './host.js';

// Two stacks on one Redis, told apart only by VESPID_REDIS_PREFIX: neither sees the other's control
// events or result publications. Ordering barrier instead of "wait and see nothing": Redis delivers
// publications to a subscriber in the order they were published, so once a later sentinel has
// arrived, an earlier cross-talk message would already have arrived too.
await describeWith(['redis'], 'VESPID_REDIS_PREFIX (two stacks on one Redis)', () => {
  const ORG = 'org-ns';
  const AGENT = 'agent-shared-id';
  const stacks = { a: uniquePrefix('nsa'), b: uniquePrefix('nsb') };
  const token = generateToken(ORG);
  const sentinelToken = generateToken(ORG);
  let redis: Redis;
  let sub: Redis;
  const hosts: Record<'a' | 'b', GatewayHost> = {} as never;
  const agents: Record<'a' | 'b', TestAgent> = {} as never;
  const logs: Record<'a' | 'b', string[]> = { a: [], b: [] };
  const heard: Array<[string, string]> = [];

  const start = (which: 'a' | 'b') =>
    startGatewayHost(
      {
        NODE_ENV: 'test',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        GATEWAY_LOG_LEVEL: 'info',
        GATEWAY_SERVICE_TOKEN: `svc-${which}-token-0123456789`,
        REDIS_URL,
        VESPID_REDIS_PREFIX: stacks[which],
      },
      {
        authenticator: staticAuthenticator([
          { token, agentId: AGENT, organizationId: ORG, tags: [] },
          { token: sentinelToken, agentId: `sentinel-${which}`, organizationId: ORG, tags: [] },
        ]),
        logDestination: { write: (line: string) => void logs[which].push(line) },
      },
    );

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    sub = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    sub.on('message', (channel: string, message: string) => heard.push([channel, message]));
    hosts.a = await start('a');
    hosts.b = await start('b');
    for (const which of ['a', 'b'] as const) {
      agents[which] = await connectTestAgent({ url: hosts[which].wsUrl, token });
      agents[which].autoRespond();
    }
  });

  afterAll(async () => {
    for (const which of ['a', 'b'] as const) {
      await agents[which]?.close().catch(() => {});
      await hosts[which]?.close({ timeoutMs: 2000 });
    }
    sub?.disconnect();
    redis?.disconnect();
  });

  it('uses byte-identical library names when the prefix is unset, and prefixed names otherwise', () => {
    expect(redisNames(undefined)).toEqual({
      prefix: undefined,
      controlChannel: 'vespid:control',
      resultKeyPrefix: 'gateway:results:',
      resultChannel: 'gateway:results',
      dispatchKeyPrefix: 'gateway:dispatches:',
      clusterKeyPrefix: 'gateway:cluster:',
      bullPrefix: undefined,
      rateLimitNamespace: 'vespid-api-rl:',
    });
    expect(redisNames('s1').controlChannel).toBe('s1:vespid:control');
    expect(redisNames('s1').bullPrefix).toBe('s1:bull');
    expect(() => redisNames('bad prefix')).toThrow(/VESPID_REDIS_PREFIX/);
  });

  it('a revocation published in stack A closes its agent and is never seen by stack B', async () => {
    await redisControlBus(redis, { channel: redisNames(stacks.a).controlChannel }).publish({ type: 'agent_revoked', agentId: AGENT });
    expect(await agents.a.closedWith).toBe(CloseCode.Revoked);
    // Barrier: a later revocation in B (of an agent nobody runs) must arrive in B's log.
    await redisControlBus(redis, { channel: redisNames(stacks.b).controlChannel }).publish({
      type: 'agent_revoked',
      agentId: 'sentinel-b',
    });
    await vi.waitFor(() => expect(logs.b.join('')).toContain('sentinel-b'), { timeout: 10_000, interval: 20 });
    const revokedInB = logs.b.filter((l) => l.includes('agent revoked by control plane'));
    expect(revokedInB).toHaveLength(1);
    expect(revokedInB[0]).toContain('sentinel-b');
    expect(agents.b.ws.readyState).toBe(agents.b.ws.OPEN);
  });

  it('a result stored in stack B lives under its prefix and is published only on its channel', async () => {
    const namesA = redisNames(stacks.a);
    const namesB = redisNames(stacks.b);
    await sub.subscribe(namesA.resultChannel, namesB.resultChannel, 'gateway:results');
    const requestId = `${uniquePrefix('run')}:node:1`;
    const res = await fetch(`${hosts.b.url}${ROUTES.dispatch}`, {
      method: 'POST',
      headers: { authorization: 'Bearer svc-b-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ organizationId: ORG, requestId, kind: 'agent.execute', payload: {}, timeoutMs: 10_000 }),
    });
    expect(res.status).toBe(200);
    expect(await redis.exists(`${namesB.resultKeyPrefix}${requestId}`)).toBe(1);
    expect(await redis.exists(`gateway:results:${requestId}`)).toBe(0);
    expect(await redis.exists(`${namesA.resultKeyPrefix}${requestId}`)).toBe(0);
    await vi.waitFor(() => expect(heard.some(([ch, m]) => ch === namesB.resultChannel && m.includes(requestId))).toBe(true), {
      timeout: 10_000,
      interval: 20,
    });
    // Barrier on the two channels that must stay silent.
    await redis.publish(namesA.resultChannel, 'sentinel-a');
    await redis.publish('gateway:results', 'sentinel-default');
    await vi.waitFor(() => expect(heard.filter(([, m]) => m.startsWith('sentinel-'))).toHaveLength(2), { timeout: 10_000, interval: 20 });
    expect(heard.filter(([, m]) => m.includes(requestId)).map(([ch]) => ch)).toEqual([namesB.resultChannel]);
  });
});
