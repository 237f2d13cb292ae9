/**
 * q — queued dispatch: how fast a queued request reaches the agent once capacity is freed, next to an
 * immediate dispatch in the same run. One agent with `maxInFlight: 1`; the caller keeps 16 requests
 * outstanding with `queueTimeoutMs`, so every request but the running one waits in the gateway's queue
 * and each result frees the slot the next one takes. Hand-off = the agent's no-op executor ending
 * request i → its executor starting request i+1 (result over ws, Redis put, settle, queue pump, execute
 * over ws, agent runtime), on the shared monotonic clock. Baseline: an immediate dispatch to the idle
 * agent, caller's send → executor start (HTTP in, Redis lookup, select, execute over ws, agent runtime).
 */
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, type DriveResult, addAgents, child, gatewayProcess, listen, stopAll } from './context.js';

type Traced = Record<string, [number, number]>;

export async function queueHandOff(ctx: BenchContext): Promise<void> {
  const [gw, agents, load] = await Promise.all([
    gatewayProcess(ctx, 'gateway-q'),
    child(ctx, 'agents-q', 'agents'),
    child(ctx, 'loadgen-q', 'loadgen'),
  ]);
  const info = await listen(ctx, gw, { store: 'redis' });
  await addAgents(ctx, agents, info.wsUrl, 0, 1, 1);
  const args = { httpUrl: info.httpUrl, serviceToken: ctx.serviceToken };
  const n = ctx.quick ? 200 : 1000;
  const blocks = ctx.quick ? 2 : 4;
  // Warm-up: JIT, keep-alive pool, Redis scripts, and the queue path itself.
  await load.call('dispatch', { ...args, n: 200, concurrency: 1 });
  await load.call('dispatch', { ...args, n: 200, concurrency: 16, queueTimeoutMs: 60_000 });
  const immediate: number[] = [];
  const handOff: number[] = [];
  let errors = 0;
  let queuedCount = 0;
  for (let b = 0; b < blocks; b++) {
    // Immediate: one at a time, the agent is idle when each request arrives.
    await agents.call('trace', { on: true });
    const d = await load.call<DriveResult & { traced: Traced }>('dispatch', {
      ...args,
      n,
      concurrency: 1,
      trace: true,
      durationMs: 20_000,
    });
    const ran = await agents.call<Traced>('trace', { on: false });
    for (const [id, [t0]] of Object.entries(d.traced)) {
      const at = ran[id];
      if (at) immediate.push(at[0] - t0);
    }
    // Queued: 16 outstanding against one slot; consecutive executions give the hand-off times.
    await agents.call('trace', { on: true });
    const q = await load.call<DriveResult>('dispatch', { ...args, n, concurrency: 16, queueTimeoutMs: 60_000, durationMs: 20_000 });
    const runs = Object.values(await agents.call<Traced>('trace', { on: false })).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < runs.length; i++) handOff.push((runs[i] as [number, number])[0] - (runs[i - 1] as [number, number])[1]);
    queuedCount += runs.length;
    errors += d.errors + q.errors;
  }
  await stopAll(ctx.children);
  const im = summarize(immediate);
  const ho = summarize(handOff);
  ctx.details.q = { immediateDispatchToStart: im, queuedHandOff: ho, queuedRequests: queuedCount, errors };
  ctx.notes.push(
    `q: a queued request reaches the agent ${ho.p50.toFixed(3)} ms (p50) after the slot frees, ` +
      `an immediate dispatch ${im.p50.toFixed(3)} ms after the caller sends it; ${queuedCount} queued requests, ${errors} errors`,
  );
  ctx.figures.push(
    figure({
      scenario: 'q',
      metric: 'capacity freed → queued task started p50',
      unit: 'ms',
      value: ho.p50,
      baseline: { label: 'immediate dispatch → started p50', value: im.p50 },
      target: '≤ 2× immediate p50',
      check: (_v, r) => r !== undefined && r <= 2,
    }),
    figure({
      scenario: 'q',
      metric: 'capacity freed → queued task started p99',
      unit: 'ms',
      value: ho.p99,
      baseline: { label: 'immediate dispatch → started p99', value: im.p99 },
      target: '≤ 2× immediate p99',
      check: (_v, r) => r !== undefined && r <= 2,
    }),
  );
}
