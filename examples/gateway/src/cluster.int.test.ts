/**
 * Cluster mode end to end: 3 gateway replica PROCESSES (the real host, GATEWAY_CLUSTER=redis) on one
 * Redis, real sdk-agents behind a TCP load balancer, so they are spread over the replicas and move
 * when one dies. Outcomes are read from Redis and the internal HTTP routes.
 */
import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';
import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { collectResults } from '../test/collect-results.js';
import { type ReplicaProcess, callReplica, startReplicaProcess, stopReplicaProcess } from '../test/replica-process.js';
import { type TcpBalancer, startTcpBalancer } from '../test/tcp-balancer.js';
import { waitFor } from '../../../test/support/wait-for.js';

const ORG = 'org-cluster';
const SERVICE_TOKEN = 'cluster-service-canary-9c1e';
const SECRET = 'cluster-secret-canary-4b7d';
const AGENTS = 6;
const MAX_IN_FLIGHT = 3;

type Replica = ReplicaProcess;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await describeWith(['redis'], 'gateway cluster: 3 replica processes on one Redis', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = uniquePrefix('gwclusterp');
  const tokens = Array.from({ length: AGENTS }, (_, i) => `${ORG}.clustertoken${String(i).padStart(12, '0')}`);
  const agentIds = tokens.map((_, i) => `agent-${i}`);
  let replicas: Replica[] = [];
  let agents: Agent[] = [];
  let lb: TcpBalancer | undefined;
  /** Executions per request id, and the most tasks each agent ever ran at once. */
  const runs = new Map<string, number>();
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  let gate: Promise<void> | null = null;
  let openGate: () => void = () => {};

  function executor(agentId: string): Executor {
    return {
      kind: 'agent.execute',
      async execute(task, ctx) {
        runs.set(task.requestId, (runs.get(task.requestId) ?? 0) + 1);
        const now = (running.get(agentId) ?? 0) + 1;
        running.set(agentId, now);
        peak.set(agentId, Math.max(peak.get(agentId) ?? 0, now));
        try {
          if (gate) await gate;
          else await sleep(10 + Math.floor(Math.random() * 30));
          return { status: 'succeeded', output: { agentId, hadSecret: ctx.secret === SECRET } };
        } finally {
          running.set(agentId, (running.get(agentId) ?? 1) - 1);
        }
      },
    };
  }

  const startReplica = (i: number, keyPrefix: string, selection: string) =>
    startReplicaProcess(i, {
      NODE_ENV: 'production',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_LOG_LEVEL: 'info',
      GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
      GATEWAY_AGENT_SELECTION: selection,
      GATEWAY_AGENT_STALE_MS: '3000',
      GATEWAY_CLUSTER: 'redis',
      GATEWAY_REPLICA_ID: `replica-${i}`,
      GATEWAY_CLUSTER_KEY_PREFIX: keyPrefix,
      GATEWAY_CLUSTER_PRESENCE_TTL_MS: '1500',
      REDIS_URL,
      DATABASE_URL: '',
      TEST_AGENTS_JSON: JSON.stringify(tokens.map((token, n) => ({ token, agentId: agentIds[n], organizationId: ORG, tags: [] }))),
    });

  async function startCluster(selection: string): Promise<string> {
    const keyPrefix = `${prefix}:${selection}:`;
    replicas = [];
    // Kept as each starts, so that a failed start still stops the others.
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        replicas[i] = await startReplica(i, keyPrefix, selection);
      }),
    );
    lb = await startTcpBalancer(() => replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null).map((r) => r.port));
    agents = tokens.map((agentToken, i) =>
      createAgent({
        gatewayWsUrl: `ws://127.0.0.1:${lb!.port}/ws`,
        agentToken,
        name: agentIds[i]!,
        maxInFlight: MAX_IN_FLIGHT,
        executors: [executor(agentIds[i]!)],
        proxyForUrl: () => undefined,
        reconnect: { initialDelayMs: 50, maxDelayMs: 400, factor: 2 },
        abortGraceMs: 0,
      }),
    );
    for (const a of agents) await a.start();
    await waitFor(async () => (await presence(keyPrefix)).every((r) => r !== null), {
      what: 'every agent present in Redis',
      timeoutMs: 15_000,
    });
    return keyPrefix;
  }

  async function stopCluster(): Promise<void> {
    await Promise.all(agents.map((a) => a.close({ timeoutMs: 2000 })));
    agents = [];
    await lb?.close();
    lb = undefined;
    await Promise.all(replicas.filter(Boolean).map((r) => stopReplicaProcess(r)));
  }

  /** The replica each agent is registered on (null = not present). */
  async function presence(keyPrefix: string): Promise<Array<string | null>> {
    return Promise.all(agentIds.map((id) => redis.hget(`${keyPrefix}a:{${ORG}}:${id}`, 'r')));
  }

  const call = (r: Replica, method: string, path: string, body?: unknown) => callReplica(r, SERVICE_TOKEN, method, path, body);

  let seq = 0;
  const req = (extra: object = {}) => ({
    organizationId: ORG,
    requestId: `${prefix}:${++seq}:0`,
    kind: 'agent.execute',
    payload: { seq },
    timeoutMs: 6000,
    ...extra,
  });

  // Every test stops its replica processes and agents, also when it fails half-way.
  afterEach(() => stopCluster());
  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('round robin: dispatches sent to any replica reach agents on every replica in one cluster-wide rotation; SIGTERM drains a replica without losing in-flight results', async () => {
    const keyPrefix = await startCluster('round_robin');
    const where = await presence(keyPrefix);
    // The balancer spread the agents: every replica holds some.
    expect(new Set(where)).toEqual(new Set(replicas.map((r) => r.replicaId)));
    const order: string[] = [];
    for (let i = 0; i < AGENTS * 2; i++) {
      const res = await call(replicas[i % 3]!, 'POST', '/internal/v1/dispatch', req({ secret: SECRET }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'succeeded', output: { hadSecret: true } });
      order.push(res.body.output.agentId);
    }
    expect(new Set(order.slice(0, AGENTS)).size).toBe(AGENTS);
    expect(order.slice(AGENTS)).toEqual(order.slice(0, AGENTS));
    // Every replica reached agents on every replica (a pinned agent from each replica).
    for (const r of replicas)
      for (const agentId of agentIds) {
        const res = await call(r, 'POST', '/internal/v1/dispatch', req({ selector: { agentId } }));
        expect(res.body.output?.agentId).toBe(agentId);
      }

    // SIGTERM drains a replica while every agent runs a held task: its agents move to the others and
    // their in-flight results arrive there; nothing is lost or run twice.
    runs.clear();
    gate = new Promise((r) => {
      openGate = r;
    });
    const held = Array.from({ length: AGENTS }, () => req());
    for (const [i, body] of held.entries())
      expect((await call(replicas[i % 3]!, 'POST', '/internal/v1/dispatch-async', body)).status).toBe(201);
    await waitFor(() => [...running.values()].reduce((a, b) => a + b, 0) === AGENTS, { what: 'every agent busy', timeoutMs: 15_000 });
    const drained = replicas[0]!;
    const exited = new Promise<number | null>((r) => drained.child.once('exit', r));
    drained.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(drained.output()).toContain('cluster replica started');
    await waitFor(async () => (await presence(keyPrefix)).every((r) => r !== null && r !== drained.replicaId), {
      what: 'agents moved off the drained replica',
      timeoutMs: 15_000,
    });
    openGate();
    gate = null;
    for (const body of held) {
      let res: { status: number; body: any } | undefined;
      await waitFor(
        async () => {
          res = await call(replicas[1]!, 'GET', `/internal/v1/results/${encodeURIComponent(body.requestId)}`);
          return res.status === 200;
        },
        { what: `result of ${body.requestId}`, timeoutMs: 15_000 },
      );
      expect(res!.body.status).toBe('succeeded');
      expect(runs.get(body.requestId)).toBe(1);
    }
    await stopCluster();
    for (const r of replicas) {
      expect(r.output()).not.toContain(SECRET);
      expect(r.output()).not.toContain(SERVICE_TOKEN);
      expect(r.output()).not.toContain('clustertoken');
    }
  });

  it('least in flight and maxInFlight hold cluster-wide under concurrent dispatch; kill -9 of a replica loses no result and runs nothing twice', async () => {
    const keyPrefix = await startCluster('least_in_flight_lru');
    runs.clear();
    peak.clear();
    // 1. Least in flight: with every task held, k rounds of AGENTS dispatches put exactly k on each agent.
    gate = new Promise((r) => {
      openGate = r;
    });
    for (let round = 1; round <= 2; round++) {
      const out = await Promise.all(
        Array.from({ length: AGENTS }, (_, i) => call(replicas[i % 3]!, 'POST', '/internal/v1/dispatch-async', req())),
      );
      expect(out.map((o) => o.status)).toEqual(Array(AGENTS).fill(201));
      await waitFor(() => [...running.values()].reduce((a, b) => a + b, 0) === AGENTS * round, {
        what: `round ${round} running`,
        timeoutMs: 15_000,
      });
      for (const id of agentIds) expect(running.get(id)).toBe(round);
    }
    // 2. maxInFlight under a concurrent burst from all replicas: only the free slots are taken.
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(replicas[i % 3]!, 'POST', '/internal/v1/dispatch-async', req())),
    );
    const accepted = burst.filter((b) => b.status === 201).length;
    expect(accepted).toBe(AGENTS * (MAX_IN_FLIGHT - 2));
    expect(new Set(burst.filter((b) => b.status !== 201).map((b) => b.body.code))).toEqual(new Set(['NO_AGENT_AVAILABLE']));
    await waitFor(() => [...running.values()].reduce((a, b) => a + b, 0) === AGENTS * MAX_IN_FLIGHT, {
      what: 'all slots running',
      timeoutMs: 15_000,
    });
    for (const id of agentIds) expect(peak.get(id)).toBe(MAX_IN_FLIGHT);
    openGate();
    gate = null;

    // 3. Load from every replica, kill -9 one replica in the middle; the client retries a failed call on
    // another replica with the same requestId (idempotent), as sdk-dispatch does.
    const victim = replicas[1]!;
    const ids: string[] = [];
    const bodies = new Map<string, ReturnType<typeof req>>();
    let killed = false;
    const live = () => replicas.filter((r) => r !== victim || !killed);
    const send = async (body: ReturnType<typeof req>) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const targets = live();
        const r = targets[(attempt + seq) % targets.length]!;
        const res = await call(r, 'POST', '/internal/v1/dispatch-async', body).catch(() => null);
        if (res && (res.status === 201 || res.status === 200)) return;
        await sleep(res?.status === 503 ? 10 : 25);
      }
      throw new Error(`could not dispatch ${body.requestId}`);
    };
    const TOTAL = 240;
    let sent = 0;
    const workers = Array.from({ length: 12 }, async () => {
      while (sent < TOTAL) {
        const body = req();
        sent++;
        ids.push(body.requestId);
        bodies.set(body.requestId, body);
        if (sent === TOTAL / 3 && !killed) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
        await send(body);
      }
    });
    await Promise.all(workers);
    expect(killed).toBe(true);
    // Its agents reconnected through the balancer to the two others.
    await waitFor(async () => (await presence(keyPrefix)).every((r) => r !== null && r !== victim.replicaId), {
      what: 'agents moved',
      timeoutMs: 15_000,
    });
    // Read from the survivors; a request routed by the dead replica is adopted by a live one on its repeat.
    const results = await collectResults({ bodies, replicas: live(), serviceToken: SERVICE_TOKEN, timeoutMs: 20_000 });
    // No result lost, nothing run twice.
    expect(results.size).toBe(TOTAL);
    for (const id of ids) expect(runs.get(id) ?? 0).toBeLessThanOrEqual(1);
    const succeeded = ids.filter((id) => results.get(id)?.status === 'succeeded');
    for (const id of succeeded) expect(runs.get(id)).toBe(1);
    // Requests whose execute died with the killed process were redelivered (agent moved) or adopted (repeat).
    const failed = ids.filter((id) => results.get(id)?.status !== 'succeeded').map((id) => results.get(id));
    // Named in full on failure (which error, after how long), not as `[ { …(6) } ]`.
    expect(failed, JSON.stringify(failed)).toEqual([]);
    for (const id of agentIds) expect(peak.get(id)).toBeLessThanOrEqual(MAX_IN_FLIGHT);

    // 4. Presence of a dead replica expires: kill -9 another replica and stop its agents at once (they
    // will not come back); their entries vanish after GATEWAY_CLUSTER_PRESENCE_TTL_MS (1.5 s), while the
    // last replica keeps refreshing its own agents' entries.
    const second = replicas[2]!;
    const where = await presence(keyPrefix);
    const gone = agentIds.filter((_, i) => where[i] === second.replicaId);
    const kept = agentIds.filter((_, i) => where[i] === replicas[0]!.replicaId);
    expect(gone.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    second.child.kill('SIGKILL');
    await Promise.all(agents.filter((_, i) => gone.includes(agentIds[i]!)).map((a) => a.close({ timeoutMs: 500 })));
    await waitFor(async () => (await Promise.all(gone.map((id) => redis.exists(`${keyPrefix}a:{${ORG}}:${id}`)))).every((n) => n === 0), {
      what: 'dead presence expired',
      timeoutMs: 10_000,
    });
    // The live replica keeps refreshing its own agents: each kept entry's TTL is seen rising again
    // (a refresh, not a fixed pause), and the entry still names that replica.
    const ttls = async () => Promise.all(kept.map((id) => redis.pttl(`${keyPrefix}a:{${ORG}}:${id}`)));
    const lowest = await ttls();
    const refreshed = new Set<number>();
    await waitFor(
      async () => {
        (await ttls()).forEach((t, i) => {
          if (t > lowest[i]!) refreshed.add(i);
          lowest[i] = Math.min(lowest[i]!, t);
        });
        return refreshed.size === kept.length;
      },
      { what: 'kept presence refreshed', timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(await Promise.all(kept.map((id) => redis.hget(`${keyPrefix}a:{${ORG}}:${id}`, 'r')))).toEqual(
      kept.map(() => replicas[0]!.replicaId),
    );
  });

  it('queued dispatch: requests queued on a replica killed with -9 are recovered by their repeat (same id) on another replica and each runs once', async () => {
    const keyPrefix = await startCluster('least_in_flight_lru');
    runs.clear();
    gate = new Promise((r) => {
      openGate = r;
    });
    // Every slot of every agent busy (held by the gate), routed by replica 0.
    const fill = Array.from({ length: AGENTS * MAX_IN_FLIGHT }, () => req());
    // The whole answer, so that a refusal shows its error code.
    for (const b of fill) expect(await call(replicas[0]!, 'POST', '/internal/v1/dispatch-async', b)).toMatchObject({ status: 201 });
    await waitFor(() => [...running.values()].reduce((a, b) => a + b, 0) === AGENTS * MAX_IN_FLIGHT, {
      what: 'all slots running',
      timeoutMs: 15_000,
    });
    // Queued on replica 1, cluster-wide index in Redis (org in a hash tag); then replica 1 is killed.
    const victim = replicas[1]!;
    const queued = Array.from({ length: 5 }, () => req({ queueTimeoutMs: 60_000 }));
    for (const b of queued) expect((await call(victim, 'POST', '/internal/v1/dispatch-async', b)).body).toMatchObject({ queued: true });
    const index = `${keyPrefix}qh:{${ORG}}`;
    expect(await redis.hlen(index)).toBe(5);
    victim.child.kill('SIGKILL');
    await waitFor(() => victim.child.signalCode !== null, { what: 'victim dead', timeoutMs: 15_000 });
    // The worker's cursor repeats each request with its id on a live replica, which adopts it: still 5, none twice.
    for (const b of queued) expect((await call(replicas[2]!, 'POST', '/internal/v1/dispatch-async', b)).status).toBe(202);
    expect(await redis.hlen(index)).toBe(5);
    openGate();
    gate = null;
    for (const b of queued)
      await waitFor(async () => (await call(replicas[2]!, 'GET', `/internal/v1/results/${b.requestId}`)).status === 200, {
        what: `${b.requestId} ran`,
        timeoutMs: 15_000,
      });
    for (const b of queued) expect(runs.get(b.requestId)).toBe(1);
    expect(await redis.hlen(index)).toBe(0);
  });
});
