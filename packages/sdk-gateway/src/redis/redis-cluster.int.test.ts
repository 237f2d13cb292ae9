import type { StoredResult } from '@vespid/protocol';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { REDIS_BACKENDS, deleteKeys } from '../../test/redis-backends.js';
import { type StaticAgentEntry, staticAuthenticator } from '../authenticator.js';
import type { GatewayOptions } from '../options.js';
import type { ResultStore } from '../results/result-store.js';
import { type TestAgent, type TestGateway, connectTestAgent, startTestGateway } from '../testing/index.js';
import { redisCluster, redisResultStore } from './index.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const ORG = 'org-c';
const SECRET = 'canary-secret-7f3a9d';

// Every case runs on a standalone Redis and on a real Redis Cluster (3 masters + 3 replicas).
for (const backend of REDIS_BACKENDS)
  await describeWith(backend.services, `gateway cluster mode (replicas in one process, real Redis: ${backend.name})`, () => {
    // Typed as the standalone client: the commands used here exist on both with the same signatures.
    const redis = backend.connect() as Redis;
    const root = uniquePrefix('gwcluster');
    let n = 0;
    let replicas: TestGateway[] = [];
    let agents: TestAgent[] = [];
    let logs: string[] = [];
    const auth = staticAuthenticator([]);
    let tok = 0;
    let seq = 0;
    const rid = () => `cl${++seq}:node:0`;

    const logger = {
      debug: (o: object, m?: string) => logs.push(JSON.stringify([o, m])),
      info: (o: object, m?: string) => logs.push(JSON.stringify([o, m])),
      warn: (o: object, m?: string) => logs.push(JSON.stringify([o, m])),
      error: (o: object, m?: string) => logs.push(JSON.stringify([o, m])),
    };

    async function startCluster(
      count: number,
      options: Partial<GatewayOptions> = {},
      orgMaxInFlight?: number,
      wrap: (store: ResultStore, replica: number) => ResultStore = (s) => s,
    ) {
      const p = `${root}:${++n}`;
      for (let i = 0; i < count; i++) {
        const cluster = redisCluster({
          redis,
          replicaId: `r${i}`,
          keyPrefix: `${p}:cluster:`,
          logger,
          ...(orgMaxInFlight ? { orgMaxInFlight } : {}),
        });
        const resultStore = redisResultStore({
          redis,
          keyPrefix: `${p}:results:`,
          dispatchKeyPrefix: `${p}:dispatches:`,
          channel: `${p}:results`,
        });
        replicas.push(await startTestGateway({ authenticator: auth, resultStore: wrap(resultStore, i), cluster, logger, ...options }));
      }
      return replicas;
    }

    async function agent(replica: number, agentId: string, caps: { maxInFlight?: number } = {}, tokenOf?: string) {
      const token = tokenOf ?? `${ORG}.tok${String(++tok).padStart(20, '0')}`;
      if (!tokenOf) auth.set({ token, agentId, organizationId: ORG, tags: [] } as StaticAgentEntry);
      const a = await connectTestAgent({ url: replicas[replica]!.wsUrl, token, capabilities: { kinds: ['agent.execute'], ...caps } });
      agents.push(a);
      // Presence is written right after hello_ack; a selection in the next instant must already see it.
      await waitFor(async () => (await redis.exists(`${root}:${n}:cluster:a:{${ORG}}:${agentId}`)) === 1);
      return Object.assign(a, { token });
    }

    const req = (extra: object = {}) => ({ organizationId: ORG, requestId: rid(), kind: 'agent.execute', payload: { n: seq }, ...extra });

    afterEach(async () => {
      await Promise.all(agents.map((a) => a.close()));
      await Promise.all(replicas.map((r) => r.close()));
      agents = [];
      replicas = [];
      logs = [];
    });
    afterAll(async () => {
      await deleteKeys(redis, `${root}:*`);
      redis.disconnect();
    });

    it('a dispatch sent to any replica reaches agents on every replica, in round-robin order cluster-wide', async () => {
      await startCluster(3, { selection: 'round_robin' });
      for (const [i, id] of ['a', 'b', 'c'].entries()) (await agent(i, id)).autoRespond();
      const order: string[] = [];
      for (let i = 0; i < 9; i++) {
        const r = await replicas[i % 3]!.gateway.dispatch(req({ secret: SECRET }));
        expect(r.status).toBe('succeeded');
        order.push(r.agentId ?? '?');
      }
      expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
      // The HTTP route of a replica without the agent returns the result too.
      const body = req();
      const res = await replicas[2]!.call('POST', '/internal/v1/dispatch', body);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('succeeded');
      expect(logs.join('\n')).not.toContain(SECRET);
    });

    it('reports a forwarded request on the replica that accepted it: dispatched to the owner replica, then settled', async () => {
      await startCluster(2);
      (await agent(1, 'b')).autoRespond();
      const events: Array<{ event: string; payload: object }> = [];
      replicas[0]!.gateway.on('request.dispatched', (payload) => void events.push({ event: 'dispatched', payload }));
      replicas[0]!.gateway.on('request.settled', (payload) => void events.push({ event: 'settled', payload }));
      const body = req({ secret: SECRET });
      expect((await replicas[0]!.gateway.dispatch(body)).status).toBe('succeeded');
      await vi.waitFor(() => expect(events.map((e) => e.event)).toEqual(['dispatched', 'settled']));
      expect(events[0]!.payload).toEqual({
        requestId: body.requestId,
        organizationId: ORG,
        kind: 'agent.execute',
        agentId: 'b',
        replicaId: 'r1',
      });
      expect(events[1]!.payload).toMatchObject({ requestId: body.requestId, status: 'succeeded', agentId: 'b' });
      expect(JSON.stringify(events)).not.toContain(SECRET);
    });

    it('least-in-flight picks the idle agent wherever it is connected, and frees slots on results', async () => {
      await startCluster(3);
      const held = [await agent(0, 'a'), await agent(1, 'b'), await agent(2, 'c')];
      const first = await Promise.all([0, 1, 2].map((i) => replicas[i]!.gateway.dispatchAsync(req())));
      expect(first.map((r) => (r.dispatched ? r.agentId : '-')).sort()).toEqual(['a', 'b', 'c']);
      // b finishes; the next two dispatches (from replica 0) go to b first (0 in flight), then by LRU.
      const exB = await held[1]!.next('execute');
      held[1]!.send({ type: 'execute_result', requestId: exB.requestId, status: 'succeeded', output: {} });
      await waitFor(async () => (await replicas[0]!.gateway.getResult(exB.requestId)) !== null);
      await waitFor(async () => (await redis.zcard(`${root}:${n}:cluster:i:{${ORG}}:b`)) === 0);
      const next = await replicas[0]!.gateway.dispatchAsync(req());
      expect(next.dispatched && next.agentId).toBe('b');
    });

    it('never exceeds maxInFlight cluster-wide under concurrent dispatch', async () => {
      await startCluster(3);
      const held = [
        await agent(0, 'a', { maxInFlight: 2 }),
        await agent(1, 'b', { maxInFlight: 2 }),
        await agent(2, 'c', { maxInFlight: 2 }),
      ];
      const outcomes = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => replicas[i % 3]!.gateway.dispatchAsync(req())));
      const sent = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
      expect(sent).toHaveLength(6);
      expect(new Set(refused.map((r) => (r.reason as { code: string }).code))).toEqual(new Set(['NO_AGENT_AVAILABLE']));
      await waitFor(() => held.every((a) => a.received.filter((m) => m.type === 'execute').length === 2));
      // Every dispatch call has settled; a ping answered by each agent's replica proves no execute frame
      // was still on its way to that agent (a replica writes an agent's frames in order).
      for (const a of held) {
        a.send({ type: 'ping', ts: 1 });
        await a.next('pong');
      }
      for (const a of held) expect(a.received.filter((m) => m.type === 'execute')).toHaveLength(2);
      // Each replica counts what runs on its own agents, whichever replica routed it.
      for (const r of replicas) expect(r.gateway.listSessions().map((x) => x.inFlight)).toEqual([2]);
    });

    it('enforces a per-org in-flight quota across replicas (RATE_LIMITED)', async () => {
      await startCluster(2, {}, 3);
      await agent(0, 'a');
      await agent(1, 'b');
      const ok = await Promise.all([0, 1, 0].map((i) => replicas[i]!.gateway.dispatchAsync(req())));
      expect(ok.every((r) => r.dispatched)).toBe(true);
      await expect(replicas[1]!.gateway.dispatchAsync(req())).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      const res = await replicas[0]!.call('POST', '/internal/v1/dispatch-async', req());
      expect(res.status).toBe(429);
    });

    it('on close, a replica withdraws its agents and sends drain; the in-flight result arrives through another replica', async () => {
      await startCluster(3);
      const a = await agent(1, 'a');
      const pending = replicas[0]!.gateway.dispatch(req({ secret: SECRET }));
      const ex = await a.next('execute');
      expect(ex.secret).toBe(SECRET);
      const closing = replicas[1]!.close();
      expect((await a.next('drain')).type).toBe('drain');
      await closing;
      replicas.splice(1, 1);
      expect(await redis.exists(`${root}:${n}:cluster:a:{${ORG}}:a`)).toBe(0);
      // The agent reconnects elsewhere and resends its unacknowledged result.
      const moved = await agent(1, 'a', {}, a.token);
      moved.send({ type: 'execute_result', requestId: ex.requestId, status: 'succeeded', output: { done: true } });
      const result: StoredResult = await pending;
      expect(result).toMatchObject({ requestId: ex.requestId, status: 'succeeded', agentId: 'a', output: { done: true } });
      expect((await moved.next('execute_ack')).requestId).toBe(ex.requestId);
      expect(logs.join('\n')).not.toContain(SECRET);
    });

    it('tag updates and revocation on the owner replica change routing on every replica at once', async () => {
      await startCluster(2);
      (await agent(1, 'a')).autoRespond();
      await expect(replicas[0]!.gateway.dispatch(req({ selector: { tag: 'east' } }))).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
      expect(replicas[1]!.gateway.updateAgentTags('a', ['east'])).toBe(1);
      await waitFor(async () => (await redis.hget(`${root}:${n}:cluster:a:{${ORG}}:a`, 't')) === '|east|');
      expect(await replicas[0]!.gateway.dispatch(req({ selector: { group: 'x' } })).catch((e) => e.code)).toBe('NO_AGENT_AVAILABLE');
      expect((await replicas[0]!.gateway.dispatch(req({ selector: { tag: 'east' } }))).agentId).toBe('a');
      expect(replicas[1]!.gateway.revokeAgent('a')).toBe(1);
      await waitFor(async () => (await redis.exists(`${root}:${n}:cluster:a:{${ORG}}:a`)) === 0);
      await expect(replicas[0]!.gateway.dispatch(req())).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
    });

    it('the owner replica retries storing a forwarded result its store refused (the agent would resend only after a reconnect)', async () => {
      let refusals = 0;
      await startCluster(2, {}, undefined, (store, i) =>
        i === 1 ? { ...store, put: (r) => (refusals++ < 2 ? Promise.reject(new Error('redis is restarting')) : store.put(r)) } : store,
      );
      (await agent(1, 'a')).autoRespond();
      const r = await replicas[0]!.gateway.dispatch(req());
      expect(r).toMatchObject({ status: 'succeeded', agentId: 'a' });
      expect(refusals).toBeGreaterThanOrEqual(2);
    });

    it('a result is the receipt: sent without execute_received, its store refused, then the agent gone, the request waits for the stored result', async () => {
      let refusals = 0;
      await startCluster(1, {}, undefined, (store) => ({
        ...store,
        put: (r) => (refusals++ < 1 ? Promise.reject(new Error('redis is restarting')) : store.put(r)),
      }));
      const a = await agent(0, 'rc');
      const pending = replicas[0]!.gateway.dispatch(req({ timeoutMs: 30_000 }));
      const exec = await a.next('execute');
      // One frame, as an agent with receipt_in_result sends for a task finished at once.
      a.send({ type: 'execute_result', requestId: exec.requestId, status: 'succeeded', output: { once: true } });
      await waitFor(() => (refusals === 1 ? true : undefined), { what: 'the refused store' });
      await a.close();
      // Not failed as unconfirmed (AGENT_DISCONNECTED): the store is retried and the agent's result stands.
      expect(await pending).toMatchObject({ status: 'succeeded', output: { once: true }, agentId: 'rc' });
    });

    it('a replica that stopped answering is detected at dispatch: its agent is forgotten, no request is lost', async () => {
      await startCluster(2);
      (await agent(0, 'a')).autoRespond();
      // Fake a dead replica's leftover presence: a ghost entry for an agent on replica "gone".
      await redis.hset(`${root}:${n}:cluster:a:{${ORG}}:ghost`, {
        r: 'gone',
        s: 'x',
        o: ORG,
        m: '5',
        k: '|agent.execute|',
        c: '*',
        t: '||',
        p: `${root}:${n}:cluster:pk:{${ORG}}:agent.execute`,
      });
      await redis.zadd(`${root}:${n}:cluster:pk:{${ORG}}:agent.execute`, 0, 'ghost');
      const results = await Promise.all([1, 2, 3].map(() => replicas[1]!.gateway.dispatch(req())));
      expect(results.map((r) => r.agentId)).toEqual(['a', 'a', 'a']);
      expect(await redis.exists(`${root}:${n}:cluster:a:{${ORG}}:ghost`)).toBe(0);
    });
  });
