/** What every scenario gets from the runner, and helpers to start the usual processes. */
import { type BenchChild, startChild } from '../lib/child.js';
import type { Figure } from '../lib/report.js';

export interface BenchContext {
  quick: boolean;
  redisUrl: string;
  /** Random prefix for Redis keys/channels of this run. */
  prefix: string;
  serviceToken: string;
  fleetSecret: string;
  /** When set, every bench process runs with `--cpu-prof` and writes its profiles under `<dir>/<process name>/`. */
  profileDir: string | undefined;
  figures: Figure[];
  details: Record<string, unknown>;
  notes: string[];
  log(message: string): void;
  /** Children started by the scenario; the runner stops any that are still running. */
  children: BenchChild[];
}

export interface GatewayInfo {
  port: number;
  httpUrl: string;
  wsUrl: string;
  listeningAt: number;
}

/** Starts `procs/<script>` and registers it for cleanup. */
export async function child(ctx: BenchContext, name: string, script: string, nodeFlags: string[] = []): Promise<BenchChild> {
  const flags = ctx.profileDir ? [...nodeFlags, '--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}/${name}`] : nodeFlags;
  const c = await startChild(name, script, { nodeFlags: flags });
  ctx.children.push(c);
  return c;
}

/** Starts a gateway process (not yet listening; call {@link listen}). */
export function gatewayProcess(ctx: BenchContext, name: string, extraFlags: string[] = []): Promise<BenchChild> {
  return child(ctx, name, 'gateway', extraFlags);
}

/** Makes a gateway process listen with the run's tokens. */
export function listen(
  ctx: BenchContext,
  gw: BenchChild,
  opts: {
    store?: 'memory' | 'redis';
    port?: number;
    maxInFlight?: number;
    replicaId?: string;
    organizationId?: string;
    /** Another Redis than the run's standalone one, e.g. a Redis Cluster (`RedisBackend.listenArgs`). */
    redis?: { redisUrl: string } | { redisClusterNodes: string };
  } = {},
): Promise<GatewayInfo> {
  return gw.call<GatewayInfo>('listen', {
    // A replica id puts the gateway in cluster mode (redisCluster on the run's Redis and prefix).
    ...(opts.replicaId ? { replicaId: opts.replicaId } : {}),
    // Agents of this organization instead of the fleet's `bench` one (scenario w).
    ...(opts.organizationId ? { organizationId: opts.organizationId } : {}),
    store: opts.store ?? 'redis',
    port: opts.port ?? 0,
    maxInFlight: opts.maxInFlight ?? 1000,
    ...(opts.redis ?? { redisUrl: ctx.redisUrl }),
    prefix: ctx.prefix,
    serviceToken: ctx.serviceToken,
    fleetSecret: ctx.fleetSecret,
  });
}

/** Connects `count` more fleet agents (numbered from `from`). */
export function addAgents(ctx: BenchContext, agents: BenchChild, wsUrl: string, from: number, count: number, maxInFlight = 1000) {
  return agents.call<{ connected: number; elapsedMs: number }>(
    'start',
    { wsUrl, from, count, secret: ctx.fleetSecret, maxInFlight },
    Math.max(60_000, count * 20),
  );
}

/** Stops children in reverse start order. */
export async function stopAll(children: BenchChild[]): Promise<void> {
  for (const c of children.splice(0).reverse()) await c.stop(10_000).catch(() => {});
}

export interface DriveResult {
  samples: number[];
  count: number;
  errors: number;
  elapsedMs: number;
  firstError?: string;
}

/**
 * Runs `windows` load windows of `durationMs` and keeps the one with the highest throughput: on a
 * shared VM other work only ever slows a window down. Returns it with every window's rate.
 */
export async function bestWindow(
  load: BenchChild,
  cmd: string,
  args: Record<string, unknown>,
  windows: number,
  durationMs: number,
): Promise<DriveResult & { windowsPerSec: number[]; totalErrors: number }> {
  let best: DriveResult | undefined;
  const windowsPerSec: number[] = [];
  let totalErrors = 0;
  for (let w = 0; w < windows; w++) {
    const r = await load.call<DriveResult>(cmd, { ...args, n: 2_000_000, durationMs }, durationMs + 30_000);
    windowsPerSec.push(Math.round((r.count / r.elapsedMs) * 1000));
    totalErrors += r.errors;
    if (!best || r.count / r.elapsedMs > best.count / best.elapsedMs) best = r;
  }
  if (!best) throw new Error('no load window ran');
  return { ...best, windowsPerSec, totalErrors };
}
