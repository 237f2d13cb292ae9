/** e — sandbox: `agent.execute` of `true` through the Docker executor vs the raw Engine API. */
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, child, stopAll } from './context.js';

export async function sandbox(ctx: BenchContext): Promise<void> {
  const proc = await child(ctx, 'sandbox-e', 'sandbox');
  const out = await proc.call<{ executor: number[]; raw: number[]; failures: string[] }>(
    'run',
    { n: ctx.quick ? 3 : 20, image: process.env.BENCH_SANDBOX_IMAGE ?? 'vespid/sandbox-busybox:test' },
    120_000,
  );
  await stopAll(ctx.children);
  const ex = summarize(out.executor);
  const raw = summarize(out.raw);
  ctx.details.e = { executor: ex, raw, failures: out.failures };
  ctx.figures.push(
    figure({
      scenario: 'e',
      metric: 'sandbox `true` p50',
      unit: 'ms',
      value: ex.p50,
      baseline: { label: 'raw create/start/wait/remove p50', value: raw.p50 },
      target: '≤ 1.1× raw',
      check: (_v, r) => r !== undefined && r <= 1.1,
    }),
    figure({
      scenario: 'e',
      metric: 'sandbox `true` mean',
      unit: 'ms',
      value: ex.mean,
      baseline: { label: 'raw mean', value: raw.mean },
      target: '≤ 1.1× raw',
      check: (_v, r) => r !== undefined && r <= 1.1,
    }),
  );
  if (out.failures.length) ctx.notes.push(`e: ${out.failures.length} failed runs (${out.failures.slice(0, 3).join('; ')})`);
}
