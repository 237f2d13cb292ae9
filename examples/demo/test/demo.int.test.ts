/**
 * Smoke test of the README's main command: `pnpm demo` on embedded defaults (no DATABASE_URL /
 * REDIS_URL: embedded Postgres, in-process queue) and on the real services. Each must end with the
 * sample run succeeded, its node_dispatched → node_succeeded events printed, and exit code 0.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith } from '../../../test/services.js';

const root = join(import.meta.dirname, '../../..');

function runDemo(env: Record<string, string | undefined>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/demo.mjs'], {
      cwd: root,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGINT'), 170_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function expectSuccessfulDemo({ code, out }: { code: number | null; out: string }): void {
  expect(out, out).toMatch(/run [0-9a-f-]{36} succeeded/);
  const dispatched = out.indexOf('node_dispatched');
  expect(dispatched).toBeGreaterThan(-1);
  expect(out.indexOf('node_succeeded')).toBeGreaterThan(dispatched);
  expect(out).toContain('Where to look next');
  expect(code, out).toBe(0);
}

const { DATABASE_URL: _d, REDIS_URL: _r, ...rest } = process.env;
// Rate-limit counters are shared per address through Redis with every other test on this machine.
const baseEnv = { ...rest, API_PAIR_RATE_LIMIT_MAX: '1000', API_RATE_LIMIT_MAX: '100000' };

await describeWith(['postgres', 'redis'], 'pnpm demo', () => {
  it('runs on embedded defaults (no DATABASE_URL, no REDIS_URL)', async () => {
    const result = await runDemo(baseEnv);
    expect(result.out).toContain('starting embedded Postgres');
    expectSuccessfulDemo(result);
  }, 180_000);

  it('runs on the real Postgres and Redis when they are configured', async () => {
    const result = await runDemo({ ...baseEnv, DATABASE_URL, REDIS_URL });
    expect(result.out).toContain('Redis: REDIS_URL');
    expectSuccessfulDemo(result);
  }, 180_000);
});
