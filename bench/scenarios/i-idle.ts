/**
 * i — idle agents across 3 gateway replicas in cluster mode: 30,000 agents (`BENCH_IDLE_AGENTS`), a third
 * per replica, once on the standalone Redis and once on the Redis Cluster of `REDIS_CLUSTER_NODES` (left
 * out with a note when unset). Reports each replica's RSS and heap per idle agent (against the same
 * replica empty, after a warm-up, as in c) and what presence refresh costs Redis while nothing else
 * happens: commands the replicas sent per second, commands the servers ran per second, and redis-server
 * CPU, over a window of `BENCH_IDLE_WINDOW_MS` (15 s: three refresh rounds at the default 15 s presence
 * TTL). Agents are real `createAgent` runtimes in fleet processes of at most 10,000 each (every agent is
 * a socket, and a process may open 20,000 files here). Full runs and `--only i` only.
 */
import type { BenchChild } from '../lib/child.js';
import { cpuSeconds } from '../lib/cpu.js';
import type { RedisT } from '../lib/deps.js';
import { type RedisBackend, deletePrefix, mastersOf, redisBackends, serverCommands, serverPids } from '../lib/redis-backends.js';
import { figure } from '../lib/report.js';
import { type BenchContext, type GatewayInfo, addAgents, child, gatewayProcess, listen } from './context.js';

const REPLICAS = 3;
const FLEET_MAX = 10_000;
const WARM_UP = 100;
/** The gateway's default presence TTL; each replica refreshes its agents every third of it. */
const PRESENCE_TTL_S = 15;

interface Memory {
  rss: number;
  heapUsed: number;
  sessions: number;
}

interface Counters {
  redisCommands: number;
  redisByName: Record<string, number>;
}

export interface IdleStep {
  agents: number;
  connectMs: number;
  windowMs: number;
  empty: Memory[];
  loaded: Memory[];
  rssPerAgentKb: number[];
  heapPerAgentKb: number[];
  /** The idle window with every agent connected. */
  idle: Window;
  /** The same window before any agent connected (same replicas, same Redis). */
  noAgents: Window;
}

interface Window {
  windowMs: number;
  /** Commands the replicas sent to Redis per second (presence refresh), in all and by name. */
  sentPerSec: number;
  sentPerSecByName: Record<string, number>;
  /** Commands the Redis servers (every master) ran per second, from INFO: includes other clients of a shared Redis. */
  serverOpsPerSec: number;
  /** CPU ms per second of each process (ms/s = thousandths of a core), from /proc without rounding. */
  cpuMsPerSec: Record<string, number>;
  redisMsPerSec: number;
  gatewayMsPerSec: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const envInt = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => (xs.length ? sum(xs) / xs.length : Number.NaN);

export async function idleAgents(ctx: BenchContext): Promise<void> {
  const total = envInt('BENCH_IDLE_AGENTS', 30_000);
  const windowMs = envInt('BENCH_IDLE_WINDOW_MS', 15_000);
  const per = Math.floor(total / REPLICAS);
  const fleetsPerReplica = Math.ceil(per / FLEET_MAX);
  // The same fleet processes serve both backends: they close every agent in between.
  const fleets = await Promise.all(
    Array.from({ length: REPLICAS * fleetsPerReplica }, (_, i) => child(ctx, `agents-i${i}`, 'agents', ['--max-old-space-size=4096'])),
  );
  const { backends, skipped } = redisBackends(ctx.redisUrl, process.env.REDIS_CLUSTER_NODES);
  const steps: Record<string, IdleStep> = {};
  for (const backend of backends) {
    const step = await onBackend(ctx, backend, fleets, { per, fleetsPerReplica, windowMs });
    steps[backend.name] = step;
    pushFigures(ctx, backend, step);
  }
  ctx.details.i = { replicas: REPLICAS, agents: per * REPLICAS, fleetProcesses: fleets.length, presenceTtlS: PRESENCE_TTL_S, steps };
  if (skipped) ctx.notes.push(`i: ${skipped} (set it to a Redis Cluster's seed nodes to measure them).`);
}

async function onBackend(
  ctx: BenchContext,
  backend: RedisBackend,
  fleets: BenchChild[],
  o: { per: number; fleetsPerReplica: number; windowMs: number },
): Promise<IdleStep> {
  const tag = backend.name === 'standalone' ? 's' : 'c';
  const gws = await Promise.all(Array.from({ length: REPLICAS }, (_, i) => gatewayProcess(ctx, `gateway-i${tag}${i}`, ['--expose-gc'])));
  const redis = backend.connect();
  try {
    const masters = await mastersOf(redis);
    const infos: GatewayInfo[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      infos.push(await listen(ctx, gws[i] as BenchChild, { replicaId: `i${tag}${i}`, redis: backend.listenArgs }));
    }
    const fleetOf = (replica: number, k: number) => fleets[replica * o.fleetsPerReplica + k] as BenchChild;
    const total = o.per * REPLICAS;
    // Warm-up (as in c): compiled code and one-time buffers of the connection path count in the empty
    // baseline. Warm-up agents are numbered after the fleet so no id is shared.
    await Promise.all(infos.map((info, r) => addAgents(ctx, fleetOf(r, 0), info.wsUrl, total + r * WARM_UP, WARM_UP)));
    await Promise.all(infos.map((_, r) => fleetOf(r, 0).call('closeAll', {}, 60_000)));
    await waitSessions(gws, 0);
    const empty = await Promise.all(gws.map((g) => g.call<Memory>('memory')));
    const pids = {
      ...(await serverPids(redis)),
      ...Object.fromEntries(gws.map((g, i) => [`gateway${i}`, g.pid])),
      ...Object.fromEntries(fleets.map((f, i) => [`agents${i}`, f.pid])),
    };
    // The same window with no agent: what the servers and replicas spend anyway (other users of a
    // shared Redis included), to subtract.
    const emptyWindow = await idleWindow(gws, masters, pids, o.windowMs);

    const t = performance.now();
    await Promise.all(
      infos.flatMap((info, r) =>
        Array.from({ length: o.fleetsPerReplica }, (_, k) => {
          const count = Math.min(FLEET_MAX, o.per - k * FLEET_MAX);
          return addAgents(ctx, fleetOf(r, k), info.wsUrl, r * o.per + k * FLEET_MAX, count);
        }),
      ),
    );
    const connectMs = performance.now() - t;
    await waitSessions(gws, o.per);
    await sleep(1000); // let upgrade buffers and handshakes settle before measuring
    const loaded = await Promise.all(gws.map((g) => g.call<Memory>('memory')));
    ctx.log(
      `i (${backend.name}): ${sum(loaded.map((m) => m.sessions))} agents on ${REPLICAS} replicas in ${(connectMs / 1000).toFixed(1)} s`,
    );

    const loadedWindow = await idleWindow(gws, masters, pids, o.windowMs);
    await Promise.all(fleets.map((f) => f.call('closeAll', {}, 120_000)));
    await Promise.all(gws.map((g) => g.stop(15_000)));
    // The runner removes the run's keys from the standalone Redis; a cluster's are removed here.
    if (backend.name !== 'standalone') await deletePrefix(redis, ctx.prefix);
    return {
      agents: sum(loaded.map((m) => m.sessions)),
      connectMs: Math.round(connectMs),
      empty,
      loaded,
      rssPerAgentKb: loaded.map((m, i) => (m.rss - (empty[i] as Memory).rss) / Math.max(1, m.sessions) / 1024),
      heapPerAgentKb: loaded.map((m, i) => (m.heapUsed - (empty[i] as Memory).heapUsed) / Math.max(1, m.sessions) / 1024),
      windowMs: loadedWindow.windowMs,
      idle: loadedWindow,
      noAgents: emptyWindow,
    };
  } finally {
    redis.disconnect();
  }
}

/**
 * Counts over `ms` (rounded up to whole refresh rounds, so every replica refreshes the same number of
 * times whatever its phase): commands the replicas sent, commands the masters ran, CPU of `pids`.
 */
async function idleWindow(gws: BenchChild[], masters: RedisT[], pids: Record<string, number>, ms: number): Promise<Window> {
  const round = (PRESENCE_TTL_S * 1000) / 3;
  const windowMs = Math.ceil(ms / round) * round;
  await Promise.all(gws.map((g) => g.call<Counters>('counters')));
  const c0 = await serverCommands(masters);
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const t0 = performance.now();
  await sleep(windowMs);
  const cpu1 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const seconds = (performance.now() - t0) / 1000;
  const serverOps = (await serverCommands(masters)) - c0;
  const counted = await Promise.all(gws.map((g) => g.call<Counters>('counters')));
  const byName: Record<string, number> = {};
  for (const c of counted) for (const [k, v] of Object.entries(c.redisByName)) byName[k] = (byName[k] ?? 0) + v;
  const cpuMsPerSec = Object.fromEntries(
    Object.keys(pids).map((k) => [k, Math.round((((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) * 1e4) / seconds) / 10]),
  );
  const pick = (prefix: string) =>
    Math.round(sum(Object.entries(cpuMsPerSec).flatMap(([k, v]) => (k.startsWith(prefix) ? [v] : []))) * 10) / 10;
  return {
    windowMs: Math.round(seconds * 1000),
    sentPerSec: sum(counted.map((c) => c.redisCommands)) / seconds,
    sentPerSecByName: Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, Math.round(v / seconds)])),
    serverOpsPerSec: serverOps / seconds,
    cpuMsPerSec,
    redisMsPerSec: pick('redis'),
    gatewayMsPerSec: pick('gateway'),
  };
}

/** Waits (bounded) until every replica holds `n` ready sessions. */
async function waitSessions(gws: BenchChild[], n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const counts = await Promise.all(gws.map((g) => g.call<number>('sessions')));
    if (counts.every((c) => c === n)) return;
    await sleep(100);
  }
  throw new Error(`replicas did not reach ${n} sessions each within 60 s`);
}

function pushFigures(ctx: BenchContext, backend: RedisBackend, s: IdleStep): void {
  const on = backend.suffix;
  const at = `${s.agents.toLocaleString('en')} agents over ${REPLICAS} replicas${on}`;
  const noAgents = 'same replicas, no agent';
  ctx.figures.push(
    figure({
      scenario: 'i',
      metric: `RSS per idle agent, mean of replicas, ${at}`,
      unit: 'KB',
      value: mean(s.rssPerAgentKb),
      baseline: { label: 'empty replica RSS, mean', value: mean(s.empty.map((m) => m.rss)) / 1024 / 1024, unit: 'MB' },
      target: '≤ 16 KB',
      check: (v) => v <= 16,
    }),
    figure({
      scenario: 'i',
      metric: `heap per idle agent, mean of replicas, ${at}`,
      unit: 'KB',
      value: mean(s.heapPerAgentKb),
      baseline: { label: 'empty replica heap, mean', value: mean(s.empty.map((m) => m.heapUsed)) / 1024 / 1024, unit: 'MB' },
    }),
    figure({
      scenario: 'i',
      metric: `Redis commands/s the replicas sent while idle (presence refresh), ${at}`,
      unit: '/s',
      value: s.idle.sentPerSec,
      // What the design predicts: one PEXPIRE per agent every third of the presence TTL.
      baseline: { label: `one per agent per ${PRESENCE_TTL_S / 3} s`, value: s.agents / (PRESENCE_TTL_S / 3) },
    }),
    figure({
      scenario: 'i',
      metric: `Redis commands/s the servers ran while idle, ${at}`,
      unit: '/s',
      value: s.idle.serverOpsPerSec,
      baseline: { label: noAgents, value: s.noAgents.serverOpsPerSec },
    }),
    figure({
      scenario: 'i',
      metric: `redis-server CPU while idle, every server process, ${at}`,
      unit: 'ms/s',
      value: s.idle.redisMsPerSec,
      baseline: { label: noAgents, value: s.noAgents.redisMsPerSec },
    }),
    figure({
      scenario: 'i',
      metric: `gateway CPU while idle, ${REPLICAS} replicas together, ${at}`,
      unit: 'ms/s',
      value: s.idle.gatewayMsPerSec,
      baseline: { label: noAgents, value: s.noAgents.gatewayMsPerSec },
    }),
  );
  const where = backend.name === 'standalone' ? 'standalone Redis' : 'Redis Cluster';
  const byName = Object.entries(s.idle.sentPerSecByName)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  ctx.notes.push(
    `i (${where}): ${s.agents.toLocaleString('en')} agents connected in ${(s.connectMs / 1000).toFixed(1)} s; RSS per agent by replica ` +
      `${s.rssPerAgentKb.map((v) => v.toFixed(1)).join(' / ')} KB; over ${(s.idle.windowMs / 1000).toFixed(0)} s idle the replicas sent ` +
      `${Math.round(s.idle.sentPerSec)} commands/s (${byName}); attributable redis-server CPU ` +
      `${(s.idle.redisMsPerSec - s.noAgents.redisMsPerSec).toFixed(1)} ms/s (idle minus the no-agent window; a shared Redis also serves other users).`,
  );
}
