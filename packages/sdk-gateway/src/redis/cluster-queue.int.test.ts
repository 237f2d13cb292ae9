import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../../test/services.js';
import { type StaticAgentEntry, staticAuthenticator } from '../authenticator.js';
import type { GatewayOptions } from '../options.js';
import { type TestAgent, type TestGateway, connectTestAgent, startTestGateway } from '../testing/index.js';
import { redisCluster, redisResultStore } from './index.js';

const ORG = 'org-cq';

await describeWith(['redis'], 'queued dispatch across gateway replicas (cluster mode, real Redis)', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const root = uniquePrefix('gwcq');
  const auth = staticAuthenticator([]);
  let n = 0;
  let tok = 0;
  let seq = 0;
  const rid = () => `cq${++seq}:node:0`;
  let replicas: TestGateway[] = [];
  let agents: TestAgent[] = [];

  async function startCluster(count: number, options: Partial<GatewayOptions> = {}) {
    const p = `${root}:${++n}`;
    for (let i = 0; i < count; i++) {
      const cluster = redisCluster({ redis, replicaId: `r${i}`, keyPrefix: `${p}:cluster:` });
      const resultStore = redisResultStore({
        redis,
        keyPrefix: `${p}:results:`,
        dispatchKeyPrefix: `${p}:dispatches:`,
        channel: `${p}:results`,
      });
      replicas.push(await startTestGateway({ authenticator: auth, resultStore, cluster, ...options }));
    }
    return p;
  }

  async function agent(replica: number, agentId: string, maxInFlight?: number) {
    const token = `${ORG}.tok${String(++tok).padStart(20, '0')}`;
    auth.set({ token, agentId, organizationId: ORG, tags: [] } as StaticAgentEntry);
    const a = await connectTestAgent({
      url: replicas[replica]!.wsUrl,
      token,
      capabilities: { kinds: ['agent.execute'], ...(maxInFlight ? { maxInFlight } : {}) },
    });
    agents.push(a);
    return a;
  }

  const executes = (a: TestAgent) => a.received.filter((m) => m.type === 'execute').map((m) => (m as { requestId: string }).requestId);
  const respond = (a: TestAgent) => {
    a.autoRespond();
    for (const id of executes(a)) a.send({ type: 'execute_result', requestId: id, status: 'succeeded', output: { echo: id } });
  };
  const req = (extra: object = {}) => ({
    organizationId: ORG,
    requestId: rid(),
    kind: 'agent.execute',
    payload: {},
    queueTimeoutMs: 60_000,
    ...extra,
  });
  // Waiting requests of the org cluster-wide (the hash also counts one being routed right now).
  const depth = (p: string) => redis.hlen(`${p}:cluster:qh:{${ORG}}`);

  afterEach(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all(replicas.map((r) => r.close()));
    agents = [];
    replicas = [];
  });
  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${root}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('queued on replica A, capacity appears on replica B: assigned through the cluster, result on A', async () => {
    const p = await startCluster(2);
    const r = req();
    expect(await replicas[0]!.gateway.dispatchAsync(r)).toMatchObject({ queued: true, position: 1 });
    // Cluster-wide index, keyed by org in a hash tag; a repeat on the other replica is not queued twice.
    expect(await depth(p)).toBe(1);
    expect(await replicas[1]!.gateway.dispatchAsync(r)).toMatchObject({ queued: true, position: 1 });
    expect(await depth(p)).toBe(1);
    const b = await agent(1, 'b');
    respond(b);
    await vi.waitFor(async () => expect(await replicas[0]!.gateway.getResult(r.requestId)).toMatchObject({ status: 'succeeded' }));
    expect(executes(b)).toEqual([r.requestId]);
    expect(await depth(p)).toBe(0);
  });

  it('a maxInFlight 1 agent on B runs requests queued on A one by one, in order, each once', async () => {
    await startCluster(2);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = req();
      ids.push(r.requestId);
      await replicas[0]!.gateway.dispatchAsync(r);
    }
    const b = await agent(1, 'b1', 1);
    respond(b);
    for (const id of ids) await vi.waitFor(async () => expect(await replicas[0]!.gateway.getResult(id)).not.toBeNull());
    expect(executes(b)).toEqual(ids);
  });

  it('the bound holds cluster-wide: 429 QUEUE_FULL on another replica', async () => {
    await startCluster(2, { orgMaxQueued: 1 });
    await replicas[0]!.gateway.dispatchAsync(req());
    await expect(replicas[1]!.gateway.dispatchAsync(req())).rejects.toMatchObject({ code: 'QUEUE_FULL', httpStatus: 429 });
  });

  it('a replica dying with queued requests loses none: the repeat on another replica adopts it and it runs once', async () => {
    const p = await startCluster(2);
    const r = req();
    await replicas[0]!.gateway.dispatchAsync(r);
    // Replica A goes away without handing anything over (its in-memory queue is lost; the index stays).
    await replicas[0]!.close();
    expect(await depth(p)).toBe(1);
    // The worker's cursor repeats the request with the same id on replica B.
    expect(await replicas[1]!.gateway.dispatchAsync(r)).toMatchObject({ queued: true });
    expect(replicas[1]!.gateway.explain({ organizationId: ORG, kind: 'agent.execute', requestId: r.requestId }).queue.position).toBe(1);
    const b = await agent(1, 'b2');
    respond(b);
    await vi.waitFor(async () => expect(await replicas[1]!.gateway.getResult(r.requestId)).toMatchObject({ status: 'succeeded' }));
    expect(await replicas[1]!.gateway.dispatchAsync(r)).toMatchObject({ cached: true });
    expect(executes(b)).toEqual([r.requestId]);
  });

  it('a revoked agent never takes queued work; another agent does', async () => {
    await startCluster(2);
    const a = await agent(1, 'rv', 1);
    const busy = req();
    await replicas[1]!.gateway.dispatchAsync(busy);
    await vi.waitFor(() => expect(executes(a)).toEqual([busy.requestId]));
    const r = req();
    expect(await replicas[0]!.gateway.dispatchAsync(r)).toMatchObject({ queued: true });
    expect(replicas[1]!.gateway.revokeAgent('rv')).toBe(1);
    await a.closedWith;
    const c = await agent(0, 'c');
    respond(c);
    await vi.waitFor(async () => expect(await replicas[0]!.gateway.getResult(r.requestId)).toMatchObject({ status: 'succeeded' }));
    expect(executes(a)).toEqual([busy.requestId]);
    expect(executes(c)).toContain(r.requestId);
  });
});
