/** Unit tests of the benchmark suite's statistics, report helpers (bench/lib) and scenario selection. */
import { describe, expect, it } from 'vitest';
import { figure, markdownTable, textTable } from '../bench/lib/report.js';
import { round, summarize } from '../bench/lib/stats.js';
import { selectScenarios } from '../bench/scenarios/select.js';

describe('summarize', () => {
  it('computes nearest-rank percentiles of unsorted samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    const s = summarize(samples);
    expect(s).toMatchObject({ n: 100, p50: 50, p90: 90, p99: 99, min: 1, max: 100, mean: 50.5 });
  });

  it('gives NaN figures for no samples instead of throwing', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect(Number.isNaN(s.p50)).toBe(true);
  });
});

describe('round', () => {
  it('keeps three significant digits for small values and fewer decimals for large ones', () => {
    expect(round(0.000123456)).toBe(0.000123);
    expect(round(1.23456)).toBe(1.235);
    expect(round(123.456)).toBe(123.5);
    expect(round(12345.6)).toBe(12346);
  });
});

describe('figure', () => {
  it('computes the ratio to the baseline and PASS/MISS from the check', () => {
    const f = figure({
      scenario: 'a',
      metric: 'p50',
      unit: 'ms',
      value: 2,
      baseline: { label: 'echo', value: 0.5 },
      target: '≤ 4×',
      check: (_v, r) => r !== undefined && r <= 4,
    });
    expect(f).toMatchObject({ ratio: 4, pass: true });
    expect(
      figure({
        scenario: 'a',
        metric: 'p50',
        unit: 'ms',
        value: 3,
        baseline: { label: 'echo', value: 0.5 },
        check: (_v, r) => (r ?? 0) <= 4,
      }).pass,
    ).toBe(false);
  });

  it('has no ratio when the baseline has another unit, and no pass without a target', () => {
    const f = figure({ scenario: 'c', metric: 'rss', unit: 'KB', value: 9, baseline: { label: 'empty', value: 120, unit: 'MB' } });
    expect(f.ratio).toBeUndefined();
    expect(f.pass).toBeUndefined();
  });

  it('marks a figure that could not be measured (NaN) as a miss, not a pass', () => {
    expect(figure({ scenario: 'c', metric: 'back', unit: 's', value: Number.NaN, check: (v) => v <= 3 }).pass).toBe(false);
  });
});

describe('tables', () => {
  it('render every figure with its baseline, ratio and verdict', () => {
    const figures = [
      figure({
        scenario: 'b',
        metric: 'a|b',
        unit: '/s',
        value: 10,
        baseline: { label: '1 agent', value: 5 },
        target: '≥ 8',
        check: (v) => v >= 8,
      }),
    ];
    const md = markdownTable(figures);
    expect(md).toContain('| b | a\\|b | 10 /s | 5 /s (1 agent) | 2× | ≥ 8 | PASS |');
    expect(textTable(figures)).toMatch(/b\s+a\|b\s+10 \/s\s+5 \/s \(1 agent\)\s+2×\s+≥ 8\s+PASS/);
  });
});

describe('selectScenarios', () => {
  const all = [{ id: 'a' }, { id: 'b' }, { id: 'g', fullOnly: true }, { id: 'sel' }];
  const ids = (xs: Array<{ id: string }>) => xs.map((x) => x.id);

  it('runs every scenario in order in a full run, and only the named ones with --only', () => {
    expect(ids(selectScenarios(all, { quick: false, only: null }).run)).toEqual(['a', 'b', 'g', 'sel']);
    expect(ids(selectScenarios(all, { quick: false, only: new Set(['g']) }).run)).toEqual(['g']);
  });

  it('leaves full-only scenarios out of a quick run, and reports them when they were named', () => {
    expect(selectScenarios(all, { quick: true, only: null })).toMatchObject({
      run: [{ id: 'a' }, { id: 'b' }, { id: 'sel' }],
      skipped: ['g'],
    });
    expect(selectScenarios(all, { quick: true, only: new Set(['a', 'g']) })).toMatchObject({ run: [{ id: 'a' }], skipped: ['g'] });
  });
});
