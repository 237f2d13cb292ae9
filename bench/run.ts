/**
 * `pnpm bench [--quick] [--only a,b,...] [--profile] [--out dir] [--summary-only]` — the benchmark suite.
 *
 * Runs each scenario with its load generators, gateway and agents as separate processes, prints every
 * figure next to its same-run baseline, and writes `bench/results/latest.json` and `SUMMARY.md`.
 * `--quick` (or BENCH_QUICK=1) is the short smoke CI runs; it leaves out the full-only scenarios g and q. `--profile` runs gateways with `--cpu-prof`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ANALYSIS } from './analysis.js';
import { deleteRunKeys } from './lib/redis-cleanup.js';
import { type RunResults, machine, textTable, writeResults, writeSummary } from './lib/report.js';
import { SCENARIOS } from './scenarios/index.js';
import { selectScenarios } from './scenarios/select.js';
import { type BenchContext, stopAll } from './scenarios/context.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env.BENCH_QUICK === '1' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    'summary-only': { type: 'boolean', default: false },
  },
});

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = values.out ?? `${root}bench/results`;
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null;
const quick = values.quick === true;
// The whole run is bounded: a scenario that overruns is abandoned and reported as an error.
const SCENARIO_TIMEOUT_MS = quick ? 45_000 : 150_000;

if (values['summary-only']) {
  // Rewrites SUMMARY.md from the existing latest.json (e.g. after the analysis text changed).
  const previous = JSON.parse(readFileSync(`${outDir}/latest.json`, 'utf8')) as RunResults;
  writeSummary(outDir, previous, previous.mode === 'quick' ? '' : ANALYSIS);
  process.stdout.write(`${textTable(previous.figures)}\n`);
  process.exit(0);
}

const started = new Date();
const t0 = performance.now();
const log = (m: string) => process.stdout.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);
const profileDir = values.profile ? `${outDir}/profiles` : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

const ctx: BenchContext = {
  quick,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: `vespid-bench:${randomBytes(4).toString('hex')}`,
  // Random per run; the env overrides exist so the smoke test can plant canaries and check that no
  // secret reaches the output or the results.
  serviceToken: process.env.BENCH_SERVICE_TOKEN || randomBytes(24).toString('base64url'),
  fleetSecret: process.env.BENCH_FLEET_SECRET || randomBytes(12).toString('hex'),
  profileDir,
  figures: [],
  details: {},
  notes: [],
  log,
  children: [],
};
const errors: RunResults['errors'] = [];
const loads: Record<string, { before: number; after: number }> = {};

const selected = selectScenarios(SCENARIOS, { quick, only });
// Named with --only but full-only (scenario g): say so instead of silently doing nothing.
if (only) for (const id of selected.skipped) log(`scenario ${id} skipped: it runs only without --quick`);
for (const s of selected.run) {
  log(`scenario ${s.id}: ${s.title}`);
  const ts = performance.now();
  // Other work on the machine shows up here: a 1-minute load above the core count means contention.
  const loadBefore = loadavg()[0] ?? 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      s.run(ctx),
      new Promise((_, reject) => {
        const limitMs = quick ? SCENARIO_TIMEOUT_MS : (s.timeoutMs ?? SCENARIO_TIMEOUT_MS);
        timer = setTimeout(() => reject(new Error(`did not finish within ${limitMs / 1000} s`)), limitMs);
      }),
    ]);
    log(`scenario ${s.id} done in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    loads[s.id] = { before: Math.round(loadBefore * 100) / 100, after: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    errors.push({ scenario: s.id, message });
    log(`scenario ${s.id} FAILED: ${message}`);
  } finally {
    clearTimeout(timer);
    await stopAll(ctx.children);
  }
}

// The run's Redis keys (results, dispatch records, continuation and peer queues) go away with it.
await deleteRunKeys(ctx.redisUrl, ctx.prefix).catch((err: unknown) => log(`could not delete the run's Redis keys: ${String(err)}`));

const results: RunResults = {
  schema: 1,
  mode: quick ? 'quick' : 'full',
  startedAt: started.toISOString(),
  finishedAt: new Date().toISOString(),
  durationS: Math.round((performance.now() - t0) / 100) / 10,
  machine: machine(),
  figures: ctx.figures,
  details: { ...ctx.details, loadavg1m: loads },
  errors,
  notes: ctx.notes,
};
writeResults(outDir, results, quick ? '' : ANALYSIS);
process.stdout.write(`\n${textTable(results.figures)}\n\n`);
log(`wrote ${outDir}/latest.json and SUMMARY.md (${results.durationS} s)`);
process.exitCode = errors.length > 0 ? 1 : 0;
