/**
 * The gateway under test, in its own process: `createGateway` on node:http at 127.0.0.1, the fleet
 * authenticator, memory or Redis results (standalone `redisUrl`, or a Redis Cluster from `redisClusterNodes`),
 * optionally in cluster mode (`redisCluster`, scenarios g and i). Records upgrade attempts (reconnect-storm check) and the
 * moment each result store starts (continuation latency), and reports its own memory after GC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoredResult } from '@vespid/protocol';
import { type Gateway, type ResultStore, createGateway, memoryResultStore } from '@vespid/sdk-gateway';
import { redisCluster, redisResultStore } from '@vespid/sdk-gateway/redis';
import { Redis, type ClusterT, type RedisT } from '../lib/deps.js';
import { fleetAuthenticator } from '../lib/fleet-auth.js';
import { clusterClient } from '../lib/redis-backends.js';
import { num, nowMs, serve, str } from '../lib/rpc.js';

let gateway: Gateway | undefined;
let redis: RedisT | ClusterT | undefined;
const server = createServer();
const putStarted = new Map<string, number>();
/** Per-request stage times (monotonic ms) when tracing: [lookupStart, lookupEnd, putStart, putEnd]. */
const trace = new Map<string, number[]>();
let tracing = false;
const MAX_RECORDED = 200_000;
let upgrades: number[] = [];
let recordUpgrades = false;
/**
 * Scenario g: which replica this is (`index` of `of`) and how many results it stored, and how many of
 * them for a request the load generator sent to another replica (`<tag>:<i>` goes to replica i % of):
 * in cluster mode the replica holding the agent stores the result, so those were forwarded to it.
 */
let slot: { index: number; of: number } | null = null;
let puts = 0;
let forwardedIn = 0;
/**
 * Commands this process sent to Redis: every command, pipelined or not, goes through the client's
 * `sendCommand` (an ioredis Cluster routes each one to its node from there).
 */
let redisCommands = 0;
let redisByName: Record<string, number> = {};

function timed(store: ResultStore): ResultStore {
  return {
    get: (id) => store.get(id),
    lookup: async (id) => {
      if (!tracing || trace.size >= MAX_RECORDED) return store.lookup(id);
      const t = [nowMs()];
      trace.set(id, t);
      const r = await store.lookup(id);
      t[1] = nowMs();
      return r;
    },
    recordDispatch: (r) => store.recordDispatch(r),
    // The library's one-call lookup + record (fix 3 of the perf follow-up); traced as the lookup stage.
    ...(store.claimDispatch
      ? {
          claimDispatch: async (r) => {
            const claim = store.claimDispatch!.bind(store);
            if (!tracing || trace.size >= MAX_RECORDED) return claim(r);
            const t = [nowMs()];
            trace.set(r.requestId, t);
            const out = await claim(r);
            t[1] = nowMs();
            return out;
          },
        }
      : {}),
    put: async (r: StoredResult) => {
      const start = nowMs();
      if (putStarted.size < MAX_RECORDED) putStarted.set(r.requestId, start);
      if (slot) {
        puts++;
        const i = Number(r.requestId.slice(r.requestId.lastIndexOf(':') + 1));
        if (Number.isInteger(i) && i % slot.of !== slot.index) forwardedIn++;
      }
      const stored = await store.put(r);
      const t = tracing ? trace.get(r.requestId) : undefined;
      if (t) {
        t[2] = start;
        t[3] = nowMs();
      }
      return stored;
    },
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) for (let i = 0; i < 3; i++) g();
}

// Frame batching per loop turn (formerly the BENCH_EXPERIMENT_CORK experiment here) is now done by
// sdk-gateway itself on WebSockets and on the Redis result store's socket.
server.on('upgrade', () => {
  if (recordUpgrades && upgrades.length < MAX_RECORDED) upgrades.push(nowMs());
});

async function close(): Promise<void> {
  await gateway?.close({ timeoutMs: 5000 });
  server.closeAllConnections();
  await new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
  await redis?.quit().catch(() => redis?.disconnect());
}

serve({
  async listen(args) {
    const store = str(args, 'store', 'memory');
    let resultStore: ResultStore = memoryResultStore({ ttlSec: 300 });
    if (store === 'redis') {
      const nodes = str(args, 'redisClusterNodes');
      const client = nodes ? clusterClient(nodes) : new Redis(str(args, 'redisUrl'));
      redis = client;
      // Counted on the client: the server's counters also count each command a Lua script runs.
      const send = client.sendCommand.bind(client) as (...a: unknown[]) => unknown;
      client.sendCommand = ((...a: unknown[]) => {
        redisCommands++;
        const name = (a[0] as { name?: string }).name ?? '?';
        redisByName[name] = (redisByName[name] ?? 0) + 1;
        return send(...a);
      }) as typeof client.sendCommand;
      const prefix = str(args, 'prefix');
      resultStore = redisResultStore({
        redis,
        ttlSec: 300,
        keyPrefix: `${prefix}:results:`,
        dispatchKeyPrefix: `${prefix}:dispatches:`,
        channel: `${prefix}:results`,
      });
    }
    // Cluster mode (scenarios g, i): every replica of a run shares `<prefix>:cluster:` on the run's Redis, so
    // the runner's cleanup (standalone) or the scenario's (Redis Cluster) removes presence and quota keys
    // with the rest. Started (gateway.start()) before traffic.
    const replicaId = str(args, 'replicaId');
    let cluster: ReturnType<typeof redisCluster> | undefined;
    if (replicaId) {
      if (!redis) throw new Error('cluster mode needs the Redis result store');
      cluster = redisCluster({ redis, replicaId, keyPrefix: `${str(args, 'prefix')}:cluster:` });
    }
    gateway = createGateway({
      authenticator: fleetAuthenticator(str(args, 'fleetSecret'), num(args, 'maxInFlight', 1000), str(args, 'organizationId') || undefined),
      serviceToken: str(args, 'serviceToken'),
      resultStore: timed(resultStore),
      maxPendingUpgrades: num(args, 'maxPendingUpgrades', 1000),
      ...(cluster ? { cluster } : {}),
    });
    await gateway.start();
    server.on('request', gateway.httpHandler);
    gateway.attach(server, { path: '/ws' });
    gateway.attachChannel(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(num(args, 'port', 0), '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return { port, httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws`, listeningAt: nowMs() };
  },
  memory() {
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, sessions: gateway?.listSessions().filter((s) => s.state === 'ready').length ?? 0 };
  },
  sessions() {
    return gateway?.listSessions().filter((s) => s.state === 'ready').length ?? 0;
  },
  recordUpgrades(args) {
    recordUpgrades = args.on === true;
    upgrades = [];
    return true;
  },
  upgrades() {
    return upgrades;
  },
  /** Starts counting stored results (see `slot`) and Redis commands; returns the counts since the previous call. */
  counters(args) {
    const out = { puts, forwardedIn, redisCommands, redisByName };
    slot = { index: num(args, 'index', 0), of: num(args, 'of', 1) };
    puts = 0;
    forwardedIn = 0;
    redisCommands = 0;
    redisByName = {};
    return out;
  },
  trace(args) {
    tracing = args.on === true;
    const out = Object.fromEntries(trace);
    trace.clear();
    return out;
  },
  putTimes() {
    const out = Object.fromEntries(putStarted);
    putStarted.clear();
    return out;
  },
  async close() {
    await close();
    return true;
  },
  async stop() {
    await close();
    // A normal exit is what makes --cpu-prof write its profile.
    setImmediate(() => process.exit(0));
    return true;
  },
});
