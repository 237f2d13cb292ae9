/**
 * cap — one cluster reserve (the `redisCluster` Lua script on the run's Redis) with 10,000 agents at
 * capacity vs 10: nobody free, and one free agent (reserve + release). Issue 22's "O(1) capacity": the
 * free-slot index keeps busy agents out of the pools, so the presences read must not grow with them.
 * Full runs only: registering and filling 10,000 agents adds Redis load that CI's smoke does not need.
 */
import { figure } from '../lib/report.js';
import { type BenchContext, child, stopAll } from './context.js';

interface Cost {
  us: number;
  examined: number;
  commands: number;
}

export async function reserveCost(ctx: BenchContext): Promise<void> {
  const proc = await child(ctx, 'reserve-cost', 'reserve-cost');
  const out = await proc.call<Record<number, { nobodyFree: Cost; oneFree: Cost }>>(
    'measure',
    { redisUrl: ctx.redisUrl, prefix: ctx.prefix, calls: 300 },
    300_000,
  );
  await stopAll(ctx.children);
  ctx.details.reserveCost = out;
  const small = out[10];
  const large = out[10_000];
  if (!small || !large) throw new Error('reserve-cost returned no figures');
  for (const [key, label] of [
    ['nobodyFree', 'reserve, nobody free'],
    ['oneFree', 'reserve + release, one free agent'],
  ] as const) {
    ctx.figures.push(
      figure({
        scenario: 'cap',
        metric: `${label}: time, 10,000 agents at capacity`,
        unit: 'µs',
        value: large[key].us,
        baseline: { label: '10 at capacity', value: small[key].us },
        target: '< 2× (independent of busy agents)',
        check: (_v, ratio) => ratio !== undefined && ratio < 2,
      }),
      figure({
        scenario: 'cap',
        metric: `${label}: presences read, 10,000 at capacity`,
        unit: 'agents',
        value: large[key].examined,
        baseline: { label: '10 at capacity', value: small[key].examined },
        target: 'same as with 10',
        check: (v) => v === small[key].examined,
      }),
      figure({
        scenario: 'cap',
        metric: `${label}: Redis commands run (incl. inside the script), 10,000 at capacity`,
        unit: 'commands',
        value: large[key].commands,
        baseline: { label: '10 at capacity', value: small[key].commands },
      }),
    );
  }
}
