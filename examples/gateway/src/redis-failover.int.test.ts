/**
 * Failover: kill -9 of a Redis Cluster master during load loses no result and runs nothing twice.
 *
 * A private Redis Cluster (ports 7100-7105, never the shared 7000-7005 that other runs use), 3 gateway
 * replica PROCESSES of the real host on it (`REDIS_CLUSTER_NODES`, cluster mode), 6 real sdk-agents.
 * While 12 clients dispatch, the master serving the test org's hash tag (presence, reservations,
 * in-flight index) is killed with SIGKILL; its replica takes over. Clients behave like sdk-dispatch: a
 * failed call is retried with the same requestId, and a request still without a result is repeated now
 * and then. Every request must end with exactly one succeeded result, and each ran once on an agent.
 */
import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterNodes } from '../../../packages/sdk-gateway/test/redis-backends.js';
import { describeWith, uniquePrefix } from '../../../test/services.js';
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../../../test/support/private-redis-cluster.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { clusterHostEnv } from '../test/cluster-host-env.js';
import { collectResults } from '../test/collect-results.js';
import { type ReplicaProcess, callReplica, startReplicaProcess, stopReplicaProcess } from '../test/replica-process.js';

/** Not used by any other test (grep 710x); bus ports are 17100-17105. */
const PORT_BASE = 7100;
const ORG = 'org-failover';
const SERVICE_TOKEN = 'failover-service-canary-61d2';
const SECRET = 'failover-secret-canary-0c5e';
const AGENTS = 6;
const CLIENTS = 12;
/** Dispatches before the kill, and at least this many more after the failover completed. */
const BEFORE_KILL = 120;
const AFTER_FAILOVER = 120;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

await describeWith(['redis-server'], 'failover: kill -9 of a Redis Cluster master during load', () => {
  const prefix = uniquePrefix('failover');
  const tokens = Array.from({ length: AGENTS }, (_, i) => `${ORG}.failovertoken${String(i).padStart(12, '0')}`);
  const agentIds = tokens.map((_, i) => `agent-${i}`);
  let cluster: PrivateRedisCluster | undefined;
  let redis: Cluster | undefined;
  let sub: Cluster | undefined;
  const replicas: ReplicaProcess[] = [];
  let agents: Agent[] = [];
  /** Executions per request id, counted at the agents. */
  const runs = new Map<string, number>();
  /**
   * Result publications per request id, as `status output` texts. A second one happens when the killed
   * master ran the put (store + publish) but died before its replica got the write: the retried put
   * stores and publishes again on the promoted replica (asynchronous replication; see
   * docs/reliability.md). It must carry the same outcome.
   */
  const published = new Map<string, string[]>();

  const executor = (agentId: string): Executor => ({
    kind: 'agent.execute',
    async execute(task, ctx) {
      runs.set(task.requestId, (runs.get(task.requestId) ?? 0) + 1);
      await pause(5 + Math.floor(Math.random() * 20));
      return { status: 'succeeded', output: { agentId, hadSecret: ctx.secret === SECRET } };
    },
  });

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster({ portBase: PORT_BASE });
    redis = new Cluster(clusterNodes(cluster.nodes), { redisOptions: { maxRetriesPerRequest: 1 }, maxRedirections: 50 });
    sub = redis.duplicate();
    sub.on('message', (_channel: string, text: string) => {
      const { requestId: id, status, output } = JSON.parse(text) as { requestId: string; status: string; output?: unknown };
      published.set(id, [...(published.get(id) ?? []), `${status} ${JSON.stringify(output)}`]);
    });
    await sub.subscribe(`${prefix}:gateway:results`);
    const env = (i: number) => ({
      ...clusterHostEnv({ replicaId: `fo-${i}`, nodes: cluster!.nodes, prefix, serviceToken: SERVICE_TOKEN }),
      REDIS_URL: '',
      DATABASE_URL: '',
      TEST_AGENTS_JSON: JSON.stringify(tokens.map((token, n) => ({ token, agentId: agentIds[n], organizationId: ORG, tags: [] }))),
    });
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        replicas[i] = await startReplicaProcess(i, env(i));
      }),
    );
    agents = tokens.map((agentToken, i) =>
      createAgent({
        gatewayWsUrl: `${replicas[i % 3]!.url.replace(/^http/, 'ws')}/ws`,
        agentToken,
        name: agentIds[i]!,
        maxInFlight: 4,
        executors: [executor(agentIds[i]!)],
        proxyForUrl: () => undefined,
        reconnect: { initialDelayMs: 50, maxDelayMs: 400, factor: 2 },
      }),
    );
    for (const a of agents) await a.start();
    await waitFor(
      async () =>
        (await Promise.all(agentIds.map((id) => redis!.exists(`${prefix}:gateway:cluster:a:{${ORG}}:${id}`)))).every((n) => n === 1),
      { what: 'every agent present in the Cluster', timeoutMs: 20_000 },
    );
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close({ timeoutMs: 2000 })));
    await Promise.all(replicas.filter(Boolean).map((r) => stopReplicaProcess(r)));
    sub?.disconnect();
    redis?.disconnect();
    await cluster?.stop();
  });

  it('every dispatch gets exactly one result and runs once while the master of the org slot fails over', { timeout: 120_000 }, async () => {
    const c = cluster!;
    const victim = await c.masterOf(`{${ORG}}`);
    let seq = 0;
    const bodies = new Map<string, object>();
    const errors = new Map<string, number>();
    let killedAt = 0;
    let failedOverAt = 0;
    let sentAfterFailover = 0;
    let failover: Promise<unknown> | undefined;

    // A client like sdk-dispatch: retries a failed call with the same requestId on the next replica.
    const send = async (body: { requestId: string }) => {
      for (let attempt = 0; attempt < 400; attempt++) {
        const r = replicas[(attempt + seq) % replicas.length]!;
        const res = await callReplica(r, SERVICE_TOKEN, 'POST', '/internal/v1/dispatch-async', body).catch((err: Error) => ({
          status: 0,
          body: { code: err.message },
        }));
        if (res.status === 201 || res.status === 200) return;
        const key = `${res.status} ${res.body?.code ?? ''}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
        await pause(25); // the client's backoff
      }
      throw new Error(`could not dispatch ${body.requestId}: ${JSON.stringify([...errors])}`);
    };
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!failedOverAt || sentAfterFailover < AFTER_FAILOVER) {
        const body = {
          organizationId: ORG,
          requestId: `${prefix}:${++seq}:0`,
          kind: 'agent.execute',
          payload: { seq },
          secret: SECRET,
          timeoutMs: 20_000,
        };
        bodies.set(body.requestId, body);
        if (failedOverAt) sentAfterFailover++;
        if (seq === BEFORE_KILL && !killedAt) {
          killedAt = Date.now();
          await c.kill9(victim);
          failover = c.waitForFailover(victim).then(() => {
            failedOverAt = Date.now();
          });
        }
        await send(body);
      }
    });
    await Promise.all(clients);
    await failover;
    expect(killedAt).toBeGreaterThan(0);

    const ids = [...bodies.keys()];
    const results = await collectResults({ bodies, replicas, serviceToken: SERVICE_TOKEN, timeoutMs: 40_000 });

    console.info(
      `failover: ${ids.length} dispatches, master :${victim.port} killed after ${BEFORE_KILL}, replica promoted in ${failedOverAt - killedAt} ms; ` +
        `client-visible errors: ${JSON.stringify(Object.fromEntries(errors))}`,
    );
    // No result lost: every request has one, and it is the agent's success (not a timeout or a loss).
    expect(results.size).toBe(ids.length);
    expect(ids.filter((id) => results.get(id)?.status !== 'succeeded').map((id) => [id, results.get(id)])).toEqual([]);
    expect(ids.every((id) => results.get(id)?.output?.hadSecret === true)).toBe(true);
    // Nothing ran twice, and every request was published with one outcome only (a repeat after a lost
    // write carries the same one).
    expect(ids.filter((id) => runs.get(id) !== 1).map((id) => [id, runs.get(id) ?? 0])).toEqual([]);
    expect([...published].filter(([, outcomes]) => new Set(outcomes).size > 1)).toEqual([]);
    // Secrets stayed out of every replica's logs.
    for (const r of replicas) {
      expect(r.output()).not.toContain(SECRET);
      expect(r.output()).not.toContain(SERVICE_TOKEN);
      expect(r.output()).not.toContain('failovertoken');
    }
  });
});
