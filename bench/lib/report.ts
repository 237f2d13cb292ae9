/**
 * Figures, the printed table, `bench/results/latest.json` and `bench/results/SUMMARY.md`. Every
 * figure carries the baseline measured in the same run and, where the issue sets one, its target
 * and PASS/MISS. Nothing here is a test assertion.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { round } from './stats.js';

export type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'i' | 'sel' | 'q' | 'w' | 'cap';

export interface Figure {
  scenario: ScenarioId;
  /** What was measured, e.g. `dispatch round trip p50`. */
  metric: string;
  unit: string;
  value: number;
  /** `unit` only when it differs from the figure's (then no ratio is computed). */
  baseline?: { label: string; value: number; unit?: string };
  /** value / baseline.value */
  ratio?: number;
  /** The target in words, e.g. `≤ 4× echo p50`. */
  target?: string;
  /** Whether the target is met; absent when there is no target for this figure. */
  pass?: boolean;
}

export interface RunResults {
  schema: 1;
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  figures: Figure[];
  /** Raw summaries per scenario (latency percentiles, counts). */
  details: Record<string, unknown>;
  /** Scenarios that failed to run, with the reason. */
  errors: Array<{ scenario: string; message: string }>;
  notes: string[];
}

/** A figure with ratio and pass computed. `check(value, ratio)` decides PASS/MISS. */
export function figure(f: Omit<Figure, 'ratio' | 'pass'> & { check?: (value: number, ratio: number | undefined) => boolean }): Figure {
  const { check, ...rest } = f;
  const ratio = rest.baseline && rest.baseline.value !== 0 && !rest.baseline.unit ? rest.value / rest.baseline.value : undefined;
  const out: Figure = { ...rest, value: round(rest.value) };
  if (rest.baseline) out.baseline = { ...rest.baseline, value: round(rest.baseline.value) };
  if (ratio !== undefined && Number.isFinite(ratio)) out.ratio = round(ratio);
  if (check) out.pass = Number.isFinite(rest.value) && check(rest.value, ratio);
  return out;
}

export function machine(): RunResults['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : String(round(v)));

function rows(figures: Figure[]): string[][] {
  return figures.map((f) => [
    f.scenario,
    f.metric,
    `${fmt(f.value)} ${f.unit}`,
    f.baseline ? `${fmt(f.baseline.value)} ${f.baseline.unit ?? f.unit} (${f.baseline.label})`.replace(/ {2}/, ' ') : '—',
    f.ratio !== undefined ? `${fmt(f.ratio)}×` : '—',
    f.target ?? '—',
    f.pass === undefined ? '' : f.pass ? 'PASS' : 'MISS',
  ]);
}

const HEAD = ['id', 'metric', 'value', 'baseline (same run)', 'ratio', 'target', ''];

/** Fixed-width table for the terminal. */
export function textTable(figures: Figure[]): string {
  const all = [HEAD, ...rows(figures)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Markdown table. */
export function markdownTable(figures: Figure[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...rows(figures).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** Writes latest.json (and a timestamped copy, git-ignored) and SUMMARY.md. */
export function writeResults(dir: string, results: RunResults, analysis: string): void {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(`${dir}/latest.json`, json);
  writeFileSync(`${dir}/${results.startedAt.replaceAll(':', '-')}.json`, json);
  writeSummary(dir, results, analysis);
}

/** Writes SUMMARY.md from results (also used by `--summary-only` after the analysis text changed). */
export function writeSummary(dir: string, results: RunResults, analysis: string): void {
  const missed = results.figures.filter((f) => f.pass === false);
  const md = [
    '# Benchmark summary',
    '',
    `Measured by \`pnpm bench${results.mode === 'quick' ? ' --quick' : ''}\` on ${results.startedAt} (${results.durationS} s), ` +
      `${results.machine.cpus} × ${results.machine.cpuModel}, Node ${results.machine.node}, ${results.machine.platform}. ` +
      'Each figure is shown next to a baseline measured in the same run; absolute times on this VM drift from run to run, ratios much less.',
    '',
    markdownTable(results.figures),
    '',
    `Targets met: ${results.figures.filter((f) => f.pass === true).length}, missed: ${missed.length}.`,
    ...(results.errors.length
      ? ['', '## Scenarios that did not run', '', ...results.errors.map((e) => `- **${e.scenario}**: ${e.message}`)]
      : []),
    ...(results.notes.length ? ['', '## Notes from this run', '', ...results.notes.map((n) => `- ${n}`)] : []),
    '',
    analysis.trim(),
    '',
  ].join('\n');
  writeFileSync(`${dir}/SUMMARY.md`, md);
}
