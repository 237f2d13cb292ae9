/**
 * a — dispatch round trip with a no-op executor (HTTP dispatch → gateway → ws → agent → ws → Redis
 * store → HTTP back), one request at a time, against raw `ws` echo between two Node processes.
 * A second gateway with the in-memory result store shows what the two Redis hops cost; the same gateway
 * through the dispatch channel (a WebSocket instead of the two HTTP legs) what the HTTP legs cost. Echo, Redis
 * and memory run in alternating blocks so VM drift hits all three alike.
 */
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import type { BenchChild } from '../lib/child.js';
import { type BenchContext, type DriveResult, addAgents, child, gatewayProcess, listen, stopAll } from './context.js';

const STAGES = [
  'caller → gateway (HTTP, validation)',
  'Redis lookup',
  'gateway → agent executor (select, ws, agent runtime)',
  'no-op executor',
  'agent → gateway result (ws, validation)',
  'Redis put + publish',
  // Measured from the put's start: a single gateway answers the caller while the put runs (so the
  // stages overlap and no longer add up to the round trip), and the end of the put would go negative.
  'put start → caller answered (HTTP or channel, client)',
] as const;

/**
 * One traced block: every process stamps its stage on the shared monotonic clock (the caller's send
 * and receive, the gateway's store calls, the agent's executor), giving the p50 of each stage.
 */
async function traceStages(gw: BenchChild, agents: BenchChild, load: BenchChild, args: Record<string, unknown>) {
  await gw.call('trace', { on: true });
  await agents.call('trace', { on: true });
  const r = await load.call<DriveResult & { traced: Record<string, [number, number]> }>('dispatch', {
    ...args,
    trace: true,
    durationMs: 20_000,
  });
  const g = await gw.call<Record<string, number[]>>('trace', { on: false });
  const a = await agents.call<Record<string, [number, number]>>('trace', { on: false });
  const per: number[][] = STAGES.map(() => []);
  for (const [id, [t0, t1]] of Object.entries(r.traced)) {
    const gt = g[id];
    const at = a[id];
    if (!gt || gt.length < 4 || !at) continue;
    const [ls, le, ps, pe] = gt as [number, number, number, number];
    const [es, ee] = at;
    const stages = [ls - t0, le - ls, es - le, ee - es, ps - ee, pe - ps, t1 - ps];
    for (let i = 0; i < stages.length; i++) per[i]?.push(stages[i] as number);
  }
  return Object.fromEntries(STAGES.map((name, i) => [name, summarize(per[i] ?? []).p50]));
}

export async function roundTrip(ctx: BenchContext): Promise<void> {
  // Processes start in parallel (each loads tsx and the sources, ~1 s); one caller per gateway.
  const [echoServer, gw, gwMem, agents, load, loadMem] = await Promise.all([
    child(ctx, 'echo-server', 'echo-server'),
    gatewayProcess(ctx, 'gateway-a'),
    gatewayProcess(ctx, 'gateway-a-memory'),
    child(ctx, 'agents-a', 'agents'),
    child(ctx, 'loadgen-a', 'loadgen'),
    child(ctx, 'loadgen-a-memory', 'loadgen'),
  ]);
  const info = await listen(ctx, gw, { store: 'redis' });
  const infoMem = await listen(ctx, gwMem, { store: 'memory' });
  await addAgents(ctx, agents, info.wsUrl, 0, 1);
  await addAgents(ctx, agents, infoMem.wsUrl, 1, 1);
  const url = echoServer.info.url as string;
  const redisArgs = { httpUrl: info.httpUrl, serviceToken: ctx.serviceToken, concurrency: 1 };
  // The same gateway through the dispatch channel (one WebSocket) instead of one HTTP request per call.
  const channelArgs = { ...redisArgs, channel: 'ws' };
  const memArgs = { httpUrl: infoMem.httpUrl, serviceToken: ctx.serviceToken, concurrency: 1 };
  const blocks = ctx.quick ? 2 : 6;
  const n = ctx.quick ? 100 : 500;
  // Warm-up: JIT, keep-alive pools, Redis script cache.
  await load.call('echo', { url, n: 200 });
  await load.call('dispatch', { ...redisArgs, n: 300 });
  await load.call('dispatch', { ...channelArgs, n: 300 });
  await loadMem.call('dispatch', { ...memArgs, n: 300 });
  const echo: number[] = [];
  const viaRedis: number[] = [];
  const viaMemory: number[] = [];
  const viaChannel: number[] = [];
  let errors = 0;
  for (let b = 0; b < blocks; b++) {
    const e = await load.call<DriveResult>('echo', { url, n, durationMs: 20_000 });
    const d = await load.call<DriveResult>('dispatch', { ...redisArgs, n, durationMs: 20_000 });
    const m = await loadMem.call<DriveResult>('dispatch', { ...memArgs, n, durationMs: 20_000 });
    const c = await load.call<DriveResult>('dispatch', { ...channelArgs, n, durationMs: 20_000 });
    echo.push(...e.samples);
    viaRedis.push(...d.samples);
    viaMemory.push(...m.samples);
    viaChannel.push(...c.samples);
    errors += d.errors + m.errors + c.errors;
  }
  const breakdown = await traceStages(gw, agents, load, { ...redisArgs, n: ctx.quick ? 100 : 500 });
  await stopAll(ctx.children);
  const es = summarize(echo);
  const ds = summarize(viaRedis);
  const ms = summarize(viaMemory);
  const cs = summarize(viaChannel);
  ctx.details.a = { echo: es, dispatch: ds, dispatchMemoryStore: ms, dispatchChannel: cs, dispatchErrors: errors, stagesP50Ms: breakdown };
  ctx.notes.push(
    `a: the dispatch channel against HTTP (same gateway, same run): p50 ${(cs.p50 / ds.p50).toFixed(3)}×, p99 ${(cs.p99 / ds.p99).toFixed(3)}×`,
  );
  ctx.notes.push(
    `a: where a round trip goes (p50 per stage, ms; one-way echo ≈ ${(es.p50 / 2).toFixed(3)}): ` +
      Object.entries(breakdown)
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join(', '),
  );
  ctx.figures.push(
    figure({
      scenario: 'a',
      metric: 'round trip p50',
      unit: 'ms',
      value: ds.p50,
      baseline: { label: 'ws echo p50', value: es.p50 },
      target: '≤ 4× echo p50',
      check: (_v, r) => r !== undefined && r <= 4,
    }),
    figure({
      scenario: 'a',
      metric: 'round trip p99',
      unit: 'ms',
      value: ds.p99,
      baseline: { label: 'ws echo p99', value: es.p99 },
      target: '≤ 4× echo p99',
      check: (_v, r) => r !== undefined && r <= 4,
    }),
    figure({
      scenario: 'a',
      metric: 'round trip p50, dispatch channel',
      unit: 'ms',
      value: cs.p50,
      baseline: { label: 'ws echo p50', value: es.p50 },
    }),
    figure({
      scenario: 'a',
      metric: 'round trip p99, dispatch channel',
      unit: 'ms',
      value: cs.p99,
      baseline: { label: 'ws echo p99', value: es.p99 },
    }),
    figure({
      scenario: 'a',
      metric: 'round trip p50, memory result store',
      unit: 'ms',
      value: ms.p50,
      baseline: { label: 'ws echo p50', value: es.p50 },
    }),
    figure({
      scenario: 'a',
      metric: 'round trip p99, memory result store',
      unit: 'ms',
      value: ms.p99,
      baseline: { label: 'ws echo p99', value: es.p99 },
    }),
  );
  if (errors > 0) ctx.notes.push(`a: ${errors} dispatches failed during the measurement`);
}
