/**
 * CI smoke of the benchmark suite: `pnpm bench --quick` runs every scenario briefly against the real
 * Redis and Docker and writes well-formed results. It asserts only that: no speed figure is a test
 * assertion (benchmarks report, they do not gate).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeWith } from './services.js';

const root = fileURLToPath(new URL('..', import.meta.url));

// Canaries: the service token and the agents' token secret must never reach the output or the results.
const SERVICE_TOKEN = `svc-canary-${Math.random().toString(36).slice(2)}`;
const FLEET_SECRET = `fleetcanary${Math.random().toString(36).slice(2)}`;

function runQuickBench(outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}scripts/bench.mjs`, '--quick', '--out', outDir], {
      cwd: root,
      env: { ...process.env, BENCH_SERVICE_TOKEN: SERVICE_TOKEN, BENCH_FLEET_SECRET: FLEET_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    // Bounded against a hang, not a speed check: about a minute idle, minutes on a loaded 2-core machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

await describeWith(['redis', 'docker', 'postgres'], 'pnpm bench --quick', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'vespid-bench-smoke-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs every scenario and writes well-formed latest.json and SUMMARY.md without secrets', { timeout: 330_000 }, async () => {
    const { code, output } = await runQuickBench(outDir);
    // A scenario that threw is named in latest.json's errors: put them first, the output tail is mostly the table.
    const written = join(outDir, 'latest.json');
    const errors = code !== 0 && existsSync(written) ? JSON.stringify(JSON.parse(readFileSync(written, 'utf8')).errors) : '';
    expect(code, `${errors}\n${output.slice(-4000)}`).toBe(0);
    const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
    expect(results).toMatchObject({ schema: 1, mode: 'quick', errors: [] });
    expect(new Set(results.figures.map((f: { scenario: string }) => f.scenario))).toEqual(
      new Set(['a', 'b', 'c', 'd', 'e', 'f', 'sel', 'w']),
    );
    for (const f of results.figures) {
      expect(typeof f.metric).toBe('string');
      expect(typeof f.unit).toBe('string');
      expect(typeof f.value).toBe('number');
      if (f.baseline) expect(typeof f.baseline.value).toBe('number');
      if (f.target !== undefined) expect(typeof f.pass).toBe('boolean');
    }
    expect(existsSync(join(outDir, 'SUMMARY.md'))).toBe(true);
    const summary = readFileSync(join(outDir, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('| id | metric |');
    for (const text of [output, summary, JSON.stringify(results)]) {
      expect(text).not.toContain(SERVICE_TOKEN);
      expect(text).not.toContain(FLEET_SECRET);
    }
  });
});
