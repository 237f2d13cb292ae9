/**
 * b — dispatches/s at concurrency 64 with 1 (baseline), 10, 100 and 1,000 agents, and p99 latency.
 * One gateway process; the fleet grows between steps; each step has its own warm-up.
 */
import { cpuMeter, pidOf } from '../lib/cpu.js';
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, type DriveResult, addAgents, child, gatewayProcess, listen, stopAll } from './context.js';

const CONCURRENCY = 64;

export async function throughput(ctx: BenchContext): Promise<void> {
  const [gw, agents, load] = await Promise.all([
    gatewayProcess(ctx, 'gateway-b'),
    child(ctx, 'agents-b', 'agents'),
    child(ctx, 'loadgen-b', 'loadgen'),
  ]);
  const info = await listen(ctx, gw);
  const durationMs = ctx.quick ? 1000 : 2000;
  const windows = ctx.quick ? 1 : 3;
  const args = { httpUrl: info.httpUrl, serviceToken: ctx.serviceToken, concurrency: CONCURRENCY, connections: CONCURRENCY };
  const steps = ctx.quick ? [1, 10, 100] : [1, 10, 100, 1000];
  const out: Record<
    number,
    {
      perSec: number;
      latency: ReturnType<typeof summarize>;
      errors: number;
      firstError?: string;
      windowsPerSec: number[];
      cpuCores: Record<string, number>;
      cpuUsPerDispatch: Record<string, number>;
    }
  > = {};
  let connected = 0;
  for (const count of steps) {
    await addAgents(ctx, agents, info.wsUrl, connected, count - connected);
    connected = count;
    await load.call('dispatch', { ...args, n: 1_000_000, durationMs: ctx.quick ? 300 : 1000 });
    // Best of several windows: other work on a shared VM only ever slows a window down, so the best
    // one is the closest to what the code can do; every window is kept in the details.
    const redisPid = pidOf('redis-server', `:${new URL(ctx.redisUrl).port || '6379'}`);
    let r: DriveResult | undefined;
    let cpuCores: Record<string, number> = {};
    const windowsPerSec: number[] = [];
    let errors = 0;
    for (let w = 0; w < windows; w++) {
      const meter = cpuMeter({ gateway: gw.pid, agents: agents.pid, loadgen: load.pid, ...(redisPid ? { redis: redisPid } : {}) });
      const rw = await load.call<DriveResult>('dispatch', { ...args, n: 2_000_000, durationMs }, durationMs + 30_000);
      const cores = meter();
      windowsPerSec.push(Math.round((rw.count / rw.elapsedMs) * 1000));
      errors += rw.errors;
      if (!r || rw.count / rw.elapsedMs > r.count / r.elapsedMs) {
        r = rw;
        cpuCores = cores;
      }
    }
    if (!r) continue;
    out[count] = {
      perSec: (r.count / r.elapsedMs) * 1000,
      latency: summarize(r.samples),
      errors,
      windowsPerSec,
      cpuCores,
      // CPU time per dispatch is what contention does not change: 2 cores / (sum of these) bounds the rate.
      cpuUsPerDispatch: Object.fromEntries(
        Object.entries(cpuCores).map(([k, cores]) => [k, Math.round((cores * 1e6) / ((r.count / r.elapsedMs) * 1000))]),
      ),
      ...(r.firstError ? { firstError: r.firstError } : {}),
    };
    ctx.log(
      `b: ${count} agents → ${Math.round(out[count].perSec)}/s, p99 ${out[count].latency.p99.toFixed(2)} ms, errors ${errors}, cpu ${JSON.stringify(cpuCores)}`,
    );
  }
  await stopAll(ctx.children);
  ctx.details.b = { concurrency: CONCURRENCY, durationMs, windows, pick: 'best window by throughput', steps: out };
  const base = out[1];
  if (!base) return;
  for (const count of steps.filter((c) => c > 1)) {
    const s = out[count];
    if (!s) continue;
    const target = count === 10 ? 10_000 : count === 1000 ? 6_000 : undefined;
    ctx.figures.push(
      figure({
        scenario: 'b',
        metric: `throughput, ${count} agents`,
        unit: '/s',
        value: s.perSec,
        baseline: { label: '1 agent', value: base.perSec },
        ...(target ? { target: `≥ ${target.toLocaleString('en')}/s`, check: (v: number) => v >= target } : {}),
      }),
      figure({
        scenario: 'b',
        metric: `p99 at c=64, ${count} agents`,
        unit: 'ms',
        value: s.latency.p99,
        baseline: { label: '1 agent', value: base.latency.p99 },
        target: '≤ 15 ms',
        check: (v) => v <= 15,
      }),
    );
    if (s.errors > 0) ctx.notes.push(`b: ${s.errors} dispatches failed with ${count} agents (first: ${s.firstError})`);
  }
  const last = out[steps[steps.length - 1] ?? 1];
  if (last) {
    const total = Object.values(last.cpuUsPerDispatch).reduce((a, b) => a + b, 0);
    ctx.figures.push(
      figure({
        scenario: 'b',
        metric: `CPU per dispatch, all processes (${steps[steps.length - 1]} agents)`,
        unit: 'µs',
        value: total,
        baseline: { label: '2 cores ÷ 10,000/s', value: 200 },
      }),
    );
  }
}
