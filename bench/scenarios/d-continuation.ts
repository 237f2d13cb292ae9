/**
 * d — continuation: from the moment the gateway starts storing a result to the worker's `onResult`,
 * with Redis push against polling at the runbook default (2 s). Both ends read CLOCK_MONOTONIC, which
 * is shared by all processes on the machine. In the polling run the agent sleeps a random 0–2 s so
 * results land at random points of the polling schedule (as real work does).
 */
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, addAgents, child, gatewayProcess, listen, stopAll } from './context.js';

interface RunOut {
  applied: Record<string, { at: number; source: string }>;
  missing: number;
}

export async function continuation(ctx: BenchContext): Promise<void> {
  const [gw, agents] = await Promise.all([gatewayProcess(ctx, 'gateway-d'), child(ctx, 'agents-d', 'agents')]);
  const info = await listen(ctx, gw, { store: 'redis' });
  await addAgents(ctx, agents, info.wsUrl, 0, 1);
  const measure = async (push: boolean, n: number, concurrency: number, sleepMaxMs: number) => {
    const worker = await child(ctx, `worker-d-${push ? 'push' : 'poll'}`, 'continuation');
    await worker.call('start', {
      httpUrl: info.httpUrl,
      serviceToken: ctx.serviceToken,
      redisUrl: ctx.redisUrl,
      prefix: ctx.prefix,
      queueName: `cont-${push ? 'push' : 'poll'}`,
      push,
      pollMs: 2000,
    });
    if (push) await worker.call('run', { n: 50, concurrency: 1 }); // warm-up
    await gw.call('putTimes');
    const out = await worker.call<RunOut>('run', { n, concurrency, sleepMaxMs, waitMs: 10_000 }, 120_000);
    const puts = await gw.call<Record<string, number>>('putTimes');
    await worker.stop();
    const samples: number[] = [];
    const sources: Record<string, number> = {};
    for (const [id, a] of Object.entries(out.applied)) {
      sources[a.source] = (sources[a.source] ?? 0) + 1;
      const p = puts[id];
      if (p !== undefined) samples.push(a.at - p);
    }
    return { latency: summarize(samples), sources, missing: out.missing };
  };
  const push = await measure(true, ctx.quick ? 100 : 1000, 1, 0);
  const poll = await measure(false, ctx.quick ? 6 : 40, ctx.quick ? 6 : 20, 2000);
  await stopAll(ctx.children);
  ctx.details.d = { push, poll };
  ctx.figures.push(
    figure({
      scenario: 'd',
      metric: 'result stored → onResult, push p50',
      unit: 'ms',
      value: push.latency.p50,
      baseline: { label: 'polling 2 s p50', value: poll.latency.p50 },
      target: '≤ 2 ms',
      check: (v) => v <= 2,
    }),
    figure({
      scenario: 'd',
      metric: 'result stored → onResult, push p99',
      unit: 'ms',
      value: push.latency.p99,
      baseline: { label: 'polling 2 s p99', value: poll.latency.p99 },
      target: '≤ 20 ms',
      check: (v) => v <= 20,
    }),
  );
  if (push.missing || poll.missing) ctx.notes.push(`d: results not applied within 10 s — push ${push.missing}, poll ${poll.missing}`);
  if ((push.sources.push ?? 0) < push.latency.n) ctx.notes.push(`d: push run sources ${JSON.stringify(push.sources)}`);
}
