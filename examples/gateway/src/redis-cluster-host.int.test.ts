/**
 * The example gateway on a Redis Cluster (`REDIS_CLUSTER_NODES`): two replicas of the real host in
 * cluster mode, a real sdk-agent on one of them, a dispatch sent to the other. The forward crosses the
 * sharded pub/sub of the Cluster, the result lands in the Cluster, and a control event published on
 * the Cluster reaches the replica holding the agent.
 */
import { CONTROL_CHANNEL, generateToken } from '@vespid/protocol';
import { type Agent, createAgent } from '@vespid/sdk-agent';
import { staticAuthenticator } from '@vespid/sdk-gateway';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterNodes, deleteKeys } from '../../../packages/sdk-gateway/test/redis-backends.js';
import { REDIS_CLUSTER_NODES, describeWith, uniquePrefix } from '../../../test/services.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { clusterHostEnv } from '../test/cluster-host-env.js';
import { type GatewayHost, startGatewayHost } from './host.js';

const ORG = 'org-rc-host';
const SERVICE_TOKEN = 'rc-host-service-canary-2e8b';
const SECRET = 'rc-host-secret-canary-90af';

await describeWith(['redis-cluster'], 'example gateway on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  const prefix = uniquePrefix('gwrc');
  const token = generateToken(ORG);
  const logs: string[] = [];
  let redis: Cluster;
  let hosts: GatewayHost[] = [];
  let agent: Agent | undefined;

  const start = (i: number) =>
    startGatewayHost(clusterHostEnv({ replicaId: `rc-host-${i}`, nodes: REDIS_CLUSTER_NODES, prefix, serviceToken: SERVICE_TOKEN }), {
      authenticator: staticAuthenticator([{ token, agentId: 'agent-rc', organizationId: ORG, tags: [] }]),
      logDestination: { write: (line: string) => void logs.push(line) },
    });

  const call = async (host: GatewayHost, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${host.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    redis = new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 1 } });
    hosts = [await start(0), await start(1)];
    agent = createAgent({
      gatewayWsUrl: hosts[1]!.wsUrl,
      agentToken: token,
      name: 'agent-rc',
      executors: [
        {
          kind: 'agent.execute',
          execute: async (task, ctx) => ({ status: 'succeeded', output: { echo: task.payload, hadSecret: ctx.secret === SECRET } }),
        },
      ],
      proxyForUrl: () => undefined,
    });
    await agent.start();
    await waitFor(async () => (await redis.hget(`${prefix}:gateway:cluster:a:{${ORG}}:agent-rc`, 'r')) === 'rc-host-1', {
      what: 'the agent present on replica 1 in the Cluster',
      timeoutMs: 15_000,
    });
  });

  afterAll(async () => {
    await agent?.close({ timeoutMs: 2000 });
    await Promise.all(hosts.map((h) => h.close({ timeoutMs: 2000 })));
    if (redis) {
      await deleteKeys(redis, `${prefix}:*`);
      redis.disconnect();
    }
  });

  it('runs cluster mode and the result store on the Cluster: a dispatch to one replica runs on the agent of the other', async () => {
    expect(hosts[0]!.config.redisClusterNodes).toEqual(clusterNodes());
    expect((await fetch(`${hosts[0]!.publicUrl}/readyz`)).status).toBe(200);
    const requestId = `${prefix}:run:node:0`;
    const res = await call(hosts[0]!, 'POST', '/internal/v1/dispatch', {
      organizationId: ORG,
      requestId,
      kind: 'agent.execute',
      payload: { n: 1 },
      secret: SECRET,
      timeoutMs: 10_000,
    });
    expect(res).toMatchObject({ status: 200, body: { status: 'succeeded', output: { echo: { n: 1 }, hadSecret: true } } });
    // The result lives in the Cluster under the runbook's key (with the stack prefix), readable from either replica.
    expect(JSON.parse((await redis.get(`${prefix}:gateway:results:${requestId}`)) ?? '{}')).toMatchObject({
      requestId,
      status: 'succeeded',
    });
    expect((await call(hosts[1]!, 'GET', `/internal/v1/results/${encodeURIComponent(requestId)}`)).body).toMatchObject({
      status: 'succeeded',
    });
  });

  it('applies a control event published on the Cluster (the control subscription runs on the Cluster client)', async () => {
    await redis.publish(`${prefix}:${CONTROL_CHANNEL}`, JSON.stringify({ type: 'agent_revoked', agentId: 'agent-rc' }));
    await waitFor(() => logs.some((l) => l.includes('agent revoked by control plane')), {
      what: 'the revocation applied',
      timeoutMs: 10_000,
    });
    const all = logs.join('\n');
    expect(all).toContain('cluster replica started');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(SERVICE_TOKEN);
    expect(all).not.toContain(token);
  });
});
