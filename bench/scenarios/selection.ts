/** Selection alone at 10 / 1,000 / 10,000 candidates; must not grow linearly (baseline: 10 candidates). */
import { figure } from '../lib/report.js';
import { type BenchContext, child, stopAll } from './context.js';

export async function selectionCost(ctx: BenchContext): Promise<void> {
  const proc = await child(ctx, 'selection', 'selection');
  const out = await proc.call<Record<string, Record<number, number>>>('measure', { maxMs: ctx.quick ? 100 : 400 }, 60_000);
  await stopAll(ctx.children);
  ctx.details.selection = { nsPerSelection: out };
  for (const [name, label] of [
    ['leastInFlightLru', 'least_in_flight_lru'],
    ['roundRobin', 'round_robin'],
  ] as const) {
    const r = out[name] ?? {};
    for (const n of [1000, 10_000]) {
      ctx.figures.push(
        figure({
          scenario: 'sel',
          metric: `${label}, ${n.toLocaleString('en')} candidates`,
          unit: 'ns',
          value: r[n] ?? Number.NaN,
          baseline: { label: '10 candidates', value: r[10] ?? Number.NaN },
          target: 'not linear (< 10× at 1,000× the candidates)',
          check: (_v, ratio) => ratio !== undefined && ratio < 10,
        }),
      );
    }
  }
  const still = out.leastInFlightLruNoLruMove ?? {};
  ctx.figures.push(
    figure({
      scenario: 'sel',
      metric: 'least_in_flight_lru, 10,000, without the LRU move',
      unit: 'ns',
      value: still[10_000] ?? Number.NaN,
      baseline: { label: '10, without the LRU move', value: still[10] ?? Number.NaN },
    }),
  );
  const busy = out.leastInFlightLruAllBusy ?? {};
  ctx.figures.push(
    figure({
      scenario: 'sel',
      metric: 'least_in_flight_lru, 10,000 all busy',
      unit: 'ns',
      value: busy[10_000] ?? Number.NaN,
      baseline: { label: '10 all busy', value: busy[10] ?? Number.NaN },
    }),
  );
}
