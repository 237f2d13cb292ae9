import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { REDIS_URL, describeWith } from '../../../test/services.js';
import { waitFor } from '../../../test/support/wait-for.js';

const dir = fileURLToPath(new URL('..', import.meta.url));

/** Runs `pnpm --filter @vespid/example-gateway dev` (the runbook command) and collects its output. */
function startProcess(env: Record<string, string>, direct = false) {
  // `direct` runs what the dev script runs (tsx src/main.ts) without the pnpm wrapper, so the exit code is the host's.
  const [cmd, args] = direct
    ? [process.execPath, ['--import', 'tsx', 'src/main.ts']]
    : ['pnpm', ['--filter', '@vespid/example-gateway', 'dev']];
  const child = spawn(cmd as string, args as string[], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLine = (re: RegExp, ms = 30_000) =>
    waitFor(() => re.exec(out), { what: String(re), timeoutMs: ms, intervalMs: 50, detail: () => out.slice(-500) });
  return { child, exited, waitFor: waitForLine, output: () => out };
}

await describeWith(['redis'], 'gateway host process (pnpm --filter @vespid/example-gateway dev)', () => {
  it('listens, serves /healthz and the internal routes, and drains on SIGTERM', async () => {
    const p = startProcess(
      { GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_SERVICE_TOKEN: 'smoke-canary-token-123', REDIS_URL },
      true,
    );
    try {
      const m = await p.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
      const url = m[1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const res = await fetch(`${url}/internal/v1/results/nothing:1`, { headers: { authorization: 'Bearer smoke-canary-token-123' } });
      expect(res.status).toBe(404);
      p.child.kill('SIGTERM');
      const code = await p.exited;
      expect(p.output()).toContain('gateway: SIGTERM, draining');
      expect(code).toBe(0);
      expect(p.output()).toContain('gateway closed');
      expect(p.output()).not.toContain('smoke-canary-token-123');
    } finally {
      if (p.child.exitCode === null) process.kill(-p.child.pid!, 'SIGKILL');
    }
  });

  it('drains when its process group is signalled (SIGTERM reaching it twice, via pnpm)', async () => {
    const p = startProcess({ GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_SERVICE_TOKEN: 'smoke-canary-token-123', REDIS_URL });
    try {
      await p.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
      // kill -TERM -<pgid>: pnpm, tsx and the host all receive it, and the wrappers forward it again.
      // A second group signal follows; the host may already be gone (signals can also coalesce), so
      // the deterministic duplicate case is covered by examples/db/src/host/shutdown.test.ts.
      process.kill(-p.child.pid!, 'SIGTERM');
      await p.waitFor(/gateway: SIGTERM, draining/);
      try {
        process.kill(-p.child.pid!, 'SIGTERM');
      } catch {
        // ESRCH: the whole group has exited already.
      }
      await p.waitFor(/gateway closed/);
      expect(p.output()).not.toContain('exiting');
    } finally {
      if (p.child.exitCode === null) process.kill(-p.child.pid!, 'SIGKILL');
    }
  });

  it('refuses to start in production without REDIS_URL, with one clear line naming GATEWAY_RESULT_STORE=memory', async () => {
    const p = startProcess(
      // No Redis at all: the test services export REDIS_CLUSTER_NODES, which would count as one.
      {
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        GATEWAY_SERVICE_TOKEN: 'smoke-canary-token-123',
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: '',
      },
      true,
    );
    try {
      expect(await p.exited).toBe(1);
      expect(p.output().trim()).toMatch(/^gateway: NODE_ENV=production without REDIS_URL [^\n]*GATEWAY_RESULT_STORE=memory[^\n]*$/);
    } finally {
      if (p.child.exitCode === null) process.kill(-p.child.pid!, 'SIGKILL');
    }
  });

  it('refuses to start without GATEWAY_SERVICE_TOKEN with one clear line', async () => {
    const p = startProcess({ GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_SERVICE_TOKEN: '' });
    try {
      expect(await p.exited).not.toBe(0);
      expect(p.output()).toContain('gateway: GATEWAY_SERVICE_TOKEN is required');
    } finally {
      if (p.child.exitCode === null) process.kill(-p.child.pid!, 'SIGKILL');
    }
  });
});
