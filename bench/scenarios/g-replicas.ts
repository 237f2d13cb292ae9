/**
 * g — dispatch throughput and p50/p99 at concurrency 64 with 1 vs 3 gateway replicas in cluster mode
 * (`redisCluster` with the run's random prefix), once on the standalone Redis and once on the Redis
 * Cluster of `REDIS_CLUSTER_NODES` (left out with a note when unset). The same agent fleet process and the same
 * load generator serve both steps: first everything on one replica, then the fleet is reconnected
 * spread over three replicas and the caller sends operation i to replica i % 3, so about two thirds
 * of the dispatches are forwarded to the replica that holds the agent. Full runs only (not `--quick`):
 * it adds two gateway processes and no target, and CI's smoke time must not change.
 */
import { cpuMeter } from '../lib/cpu.js';
import type { RedisT } from '../lib/deps.js';
import type { BenchChild } from '../lib/child.js';
import { type RedisBackend, deletePrefix, mastersOf, redisBackends, serverCommands, serverPids } from '../lib/redis-backends.js';
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, type DriveResult, type GatewayInfo, addAgents, child, gatewayProcess, listen, stopAll } from './context.js';

const CONCURRENCY = 64;
const AGENTS = 30;
const REPLICAS = 3;
const WINDOWS = 3;
const WINDOW_MS = 2000;

interface Step {
  perSec: number;
  latency: ReturnType<typeof summarize>;
  errors: number;
  firstError?: string;
  windowsPerSec: number[];
  forwardedShare: number;
  /** Commands the gateway processes sent to Redis, per dispatch (a Lua script is one command). */
  redisCommandsPerDispatch: number;
  /**
   * Commands Redis executed per dispatch, from the server-wide counter: also counts every command a
   * Lua script runs, and anything other clients of the same Redis do meanwhile.
   */
  redisServerOpsPerDispatch: number;
  redisCommandsPerDispatchByName: Record<string, number>;
  cpuCores: Record<string, number>;
  cpuUsPerDispatch: number;
}

/** Polls `pred` every 20 ms for at most `timeoutMs`; false when it never held. */
async function waitUntil(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

async function measure(
  ctx: BenchContext,
  load: BenchChild,
  pids: Record<string, number>,
  gws: BenchChild[],
  infos: GatewayInfo[],
  masters: RedisT[],
): Promise<Step> {
  const args = {
    httpUrls: infos.map((i) => i.httpUrl),
    serviceToken: ctx.serviceToken,
    concurrency: CONCURRENCY,
    connections: CONCURRENCY,
  };
  // Resets the replicas' counters and returns what they counted since the previous call.
  const count = async () => {
    const all = await Promise.all(
      gws.map((g, index) =>
        g.call<{ puts: number; forwardedIn: number; redisCommands: number; redisByName: Record<string, number> }>('counters', {
          index,
          of: gws.length,
        }),
      ),
    );
    const byName: Record<string, number> = {};
    for (const c of all) for (const [k, v] of Object.entries(c.redisByName)) byName[k] = (byName[k] ?? 0) + v;
    return { forwarded: all.reduce((a, c) => a + c.forwardedIn, 0), sent: all.reduce((a, c) => a + c.redisCommands, 0), byName };
  };
  await load.call('dispatch', { ...args, n: 1_000_000, durationMs: 1000 }, 40_000); // warm-up
  let best:
    | { r: DriveResult; cores: Record<string, number>; commands: number; forwarded: number; sent: number; byName: Record<string, number> }
    | undefined;
  const windowsPerSec: number[] = [];
  let errors = 0;
  // Best of several windows, as in b: other work on a shared VM only ever slows a window down.
  for (let w = 0; w < WINDOWS; w++) {
    await count();
    const meter = cpuMeter(pids);
    const c0 = await serverCommands(masters);
    const r = await load.call<DriveResult>('dispatch', { ...args, n: 2_000_000, durationMs: WINDOW_MS }, WINDOW_MS + 30_000);
    const commands = (await serverCommands(masters)) - c0;
    const cores = meter();
    const { forwarded, sent, byName } = await count();
    windowsPerSec.push(Math.round((r.count / r.elapsedMs) * 1000));
    errors += r.errors;
    if (!best || r.count / r.elapsedMs > best.r.count / best.r.elapsedMs) best = { r, cores, commands, forwarded, sent, byName };
  }
  if (!best) throw new Error('no load window ran');
  const { r, cores, commands, forwarded, sent, byName } = best;
  const n = r.count + r.errors;
  const perSec = (r.count / r.elapsedMs) * 1000;
  const total = Object.values(cores).reduce((a, b) => a + b, 0);
  return {
    perSec,
    latency: summarize(r.samples),
    errors,
    windowsPerSec,
    forwardedShare: r.count > 0 ? forwarded / r.count : Number.NaN,
    // The INFO calls themselves are 2 commands per master and window: negligible against thousands of dispatches.
    redisServerOpsPerDispatch: r.count + r.errors > 0 ? commands / (r.count + r.errors) : Number.NaN,
    redisCommandsPerDispatch: n > 0 ? sent / n : Number.NaN,
    redisCommandsPerDispatchByName: Object.fromEntries(
      Object.entries(byName).map(([k, v]) => [k, n > 0 ? Math.round((v / n) * 100) / 100 : 0]),
    ),
    cpuCores: cores,
    cpuUsPerDispatch: Math.round((total * 1e6) / perSec),
    ...(r.firstError ? { firstError: r.firstError } : {}),
  };
}

export async function replicas(ctx: BenchContext): Promise<void> {
  const { backends, skipped } = redisBackends(ctx.redisUrl, process.env.REDIS_CLUSTER_NODES);
  const steps: Record<string, Record<string, Step>> = {};
  for (const backend of backends) steps[backend.name] = await onBackend(ctx, backend);
  ctx.details.g = {
    concurrency: CONCURRENCY,
    agents: AGENTS,
    replicas: REPLICAS,
    durationMs: WINDOW_MS,
    windows: WINDOWS,
    pick: 'best window by throughput',
    // Kept at the top level for the standalone run, so earlier runs' `details.g.steps` compare.
    steps: steps.standalone,
    ...(steps['redis-cluster'] ? { redisCluster: { steps: steps['redis-cluster'] } } : {}),
  };
  if (skipped) ctx.notes.push(`g: ${skipped} (set it to a Redis Cluster's seed nodes to measure them).`);
}

/** Both steps (1 replica, then 3) on one Redis deployment; pushes that deployment's figures. */
async function onBackend(ctx: BenchContext, backend: RedisBackend): Promise<Record<string, Step>> {
  const tag = backend.name === 'standalone' ? '' : 'c';
  const [agents, load, ...gws] = await Promise.all([
    child(ctx, `agents-g${tag}`, 'agents'),
    child(ctx, `loadgen-g${tag}`, 'loadgen'),
    ...Array.from({ length: REPLICAS }, (_, i) => gatewayProcess(ctx, `gateway-g${tag}${i}`)),
  ]);
  const redis = backend.connect();
  try {
    const masters = await mastersOf(redis);
    // Every redis-server of the deployment (on a cluster the replicas too: they apply every write).
    const common = { agents: agents.pid, loadgen: load.pid, ...(await serverPids(redis)) };
    const gw = gws as BenchChild[];
    const gw0 = gw[0] as BenchChild;
    const on = { redis: backend.listenArgs };

    // Step 1: one replica in cluster mode holds every agent and takes every call (the other two
    // processes are started but not listening, so they cost nothing).
    const first = await listen(ctx, gw0, { replicaId: `g${tag}0`, ...on });
    await addAgents(ctx, agents, first.wsUrl, 0, AGENTS);
    const one = await measure(ctx, load, { ...common, gateway0: gw0.pid }, [gw0], [first], masters);
    ctx.log(`g (${backend.name}): 1 replica → ${Math.round(one.perSec)}/s, p99 ${one.latency.p99.toFixed(2)} ms, errors ${one.errors}`);

    // Step 2: the same fleet, reconnected a third per replica. Wait until replica 0 has let go of every
    // session so no stale presence is left when an agent id re-registers on another replica.
    await agents.call('closeAll', {}, 30_000);
    if (!(await waitUntil(async () => (await gw0.call<number>('sessions')) === 0, 10_000))) {
      throw new Error('replica 0 still had sessions 10 s after the fleet closed');
    }
    const infos = [first];
    for (let i = 1; i < REPLICAS; i++) infos.push(await listen(ctx, gw[i] as BenchChild, { replicaId: `g${tag}${i}`, ...on }));
    const per = AGENTS / REPLICAS;
    for (let i = 0; i < REPLICAS; i++) await addAgents(ctx, agents, (infos[i] as GatewayInfo).wsUrl, i * per, per);
    const gwPids = Object.fromEntries(gw.map((g, i) => [`gateway${i}`, g.pid]));
    const three = await measure(ctx, load, { ...common, ...gwPids }, gw, infos, masters);
    ctx.log(
      `g (${backend.name}): ${REPLICAS} replicas → ${Math.round(three.perSec)}/s, p99 ${three.latency.p99.toFixed(2)} ms, ` +
        `errors ${three.errors}, forwarded ${(three.forwardedShare * 100).toFixed(0)} %`,
    );
    await stopAll(ctx.children);
    // The runner removes the run's keys from the standalone Redis; a cluster's are removed here.
    if (backend.name !== 'standalone') await deletePrefix(redis, ctx.prefix);
    pushFigures(ctx, backend, one, three);
    return { '1': one, [String(REPLICAS)]: three };
  } finally {
    redis.disconnect();
  }
}

function pushFigures(ctx: BenchContext, backend: RedisBackend, one: Step, three: Step): void {
  const label = '1 replica';
  const on = backend.suffix;
  ctx.figures.push(
    figure({
      scenario: 'g',
      metric: `throughput, ${REPLICAS} replicas (c=64, ${AGENTS} agents${on})`,
      unit: '/s',
      value: three.perSec,
      baseline: { label, value: one.perSec },
      target: '≥ 1.0× 1 replica',
      check: (_, ratio) => ratio !== undefined && ratio >= 1,
    }),
    figure({
      scenario: 'g',
      metric: `p50 at c=64, ${REPLICAS} replicas${on}`,
      unit: 'ms',
      value: three.latency.p50,
      baseline: { label, value: one.latency.p50 },
    }),
    figure({
      scenario: 'g',
      metric: `p99 at c=64, ${REPLICAS} replicas${on}`,
      unit: 'ms',
      value: three.latency.p99,
      baseline: { label, value: one.latency.p99 },
    }),
    figure({
      scenario: 'g',
      metric: `Redis commands sent per dispatch, ${REPLICAS} replicas${on}`,
      unit: 'cmds',
      value: three.redisCommandsPerDispatch,
      baseline: { label, value: one.redisCommandsPerDispatch },
    }),
    figure({
      scenario: 'g',
      metric: `CPU per dispatch, all processes, ${REPLICAS} replicas${on}`,
      unit: 'µs',
      value: three.cpuUsPerDispatch,
      baseline: { label, value: one.cpuUsPerDispatch },
      target: '≤ 1.2× 1 replica',
      check: (_, ratio) => ratio !== undefined && ratio <= 1.2,
    }),
  );
  const where = backend.name === 'standalone' ? 'standalone Redis' : 'Redis Cluster';
  ctx.notes.push(
    `g (${where}): with ${REPLICAS} replicas ${(three.forwardedShare * 100).toFixed(0)} % of the dispatches were forwarded to another replica ` +
      `(agent on another replica than the one called); with 1 replica ${(one.forwardedShare * 100).toFixed(0)} %.`,
  );
  for (const [n, s] of [
    [1, one],
    [REPLICAS, three],
  ] as const) {
    if (s.errors > 0) ctx.notes.push(`g (${where}): ${s.errors} dispatches failed with ${n} replica(s) (first: ${s.firstError})`);
  }
}
