/** e — sandbox: `agent.execute` of `true` through the Docker executor vs the raw Engine API. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, child, stopAll } from './context.js';

const DEFAULT_IMAGE = 'vespid/sandbox-busybox:test';

/** A fresh clone may not have the local image yet: build it (no registry is reachable, never pull). */
function ensureImage(image: string, log: (m: string) => void): void {
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 15_000 });
  } catch {
    if (image !== DEFAULT_IMAGE) return; // the run reports DOCKER_IMAGE_NOT_FOUND
    log(`e: building ${image} (scripts/build-sandbox-images.sh --if-missing)`);
    const script = fileURLToPath(new URL('../../scripts/build-sandbox-images.sh', import.meta.url));
    execFileSync('bash', [script, '--if-missing'], { stdio: 'inherit', timeout: 300_000 });
  }
}

export async function sandbox(ctx: BenchContext): Promise<void> {
  const image = process.env.BENCH_SANDBOX_IMAGE ?? DEFAULT_IMAGE;
  ensureImage(image, ctx.log);
  const proc = await child(ctx, 'sandbox-e', 'sandbox');
  const out = await proc.call<{ executor: number[]; cold: number[]; raw: number[]; rawPlus: number[]; failures: string[] }>(
    'run',
    { n: ctx.quick ? 3 : 20, image },
    120_000,
  );
  await stopAll(ctx.children);
  const ex = summarize(out.executor);
  const cold = summarize(out.cold);
  const raw = summarize(out.raw);
  const rawPlus = summarize(out.rawPlus);
  ctx.details.e = { executor: ex, cold, raw, rawPlusExecutorEngineCalls: rawPlus, failures: out.failures };
  ctx.figures.push(
    // Issue 21: warm containers (poolSize 2) take the create and the remove off a task's path.
    figure({
      scenario: 'e',
      metric: 'sandbox `true` p50 (warm pool)',
      unit: 'ms',
      value: ex.p50,
      baseline: { label: 'raw create/start/wait/remove p50', value: raw.p50 },
      target: '≤ 0.5× raw',
      check: (_v, r) => r !== undefined && r <= 0.5,
    }),
    figure({
      scenario: 'e',
      metric: 'sandbox `true` mean (warm pool)',
      unit: 'ms',
      value: ex.mean,
      baseline: { label: 'raw mean', value: raw.mean },
    }),
    figure({
      scenario: 'e',
      metric: 'sandbox `true` p50 (cold, poolSize 0)',
      unit: 'ms',
      value: cold.p50,
      baseline: { label: 'raw create/start/wait/remove p50', value: raw.p50 },
      target: '≤ 1.1× raw',
      check: (_v, r) => r !== undefined && r <= 1.1,
    }),
  );
  ctx.figures.push(
    figure({
      scenario: 'e',
      metric: 'raw + image inspect, attach, inspect p50',
      unit: 'ms',
      value: rawPlus.p50,
      baseline: { label: 'raw p50', value: raw.p50 },
    }),
  );
  if (out.failures.length) ctx.notes.push(`e: ${out.failures.length} failed runs (${out.failures.slice(0, 3).join('; ')})`);
}
