import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const fixtures = fileURLToPath(new URL('../../test-fixtures/', import.meta.url));

/** Starts the fixture host behind a forwarding wrapper, in its own process group (like `pnpm dev`). */
function startGroup(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    [`${fixtures}forwarding-wrapper.cjs`, process.execPath, '--import', 'tsx', `${fixtures}shutdown-host.ts`],
    { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitOutput = (text: string) => vi.waitFor(() => expect(out).toContain(text), { timeout: 20_000, interval: 25 });
  return { child, exited, waitOutput, output: () => out };
}

describe('handleShutdown with a real process group', () => {
  it('drains when SIGTERM reaches the host twice (group signal + wrapper forwarding)', async () => {
    // A wide window: on a loaded machine the second delivery may come late; the rule, not the timing, is under test.
    const p = startGroup({ DUPLICATE_WINDOW_MS: '60000' });
    try {
      await p.waitOutput('fixture: ready');
      const group = (signal: NodeJS.Signals) => process.kill(-p.child.pid!, signal);
      group('SIGTERM'); // kill -TERM -<pgid>: the host gets it, and the wrapper forwards it again
      await p.waitOutput('fixture: SIGTERM, draining');
      // Two deliveries of one pending signal can merge into one; this second one is handled for sure.
      group('SIGTERM');
      await p.waitOutput('still draining');
      p.child.stdin.write('release\n'); // let close() finish
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('fixture: closed after SIGTERM');
      expect(p.output()).not.toContain('exiting');
    } finally {
      if (p.child.exitCode === null) process.kill(-p.child.pid!, 'SIGKILL');
    }
  });

  it('a repeat after the duplicate window forces the exit', async () => {
    const p = startGroup({ DUPLICATE_WINDOW_MS: '0' });
    try {
      await p.waitOutput('fixture: ready');
      process.kill(p.child.pid!, 'SIGTERM'); // the wrapper alone: the host hears it once
      await p.waitOutput('fixture: SIGTERM, draining');
      process.kill(p.child.pid!, 'SIGTERM');
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain('fixture: second SIGTERM, exiting without draining');
      expect(p.output()).not.toContain('closed after');
    } finally {
      if (p.child.exitCode === null) process.kill(-p.child.pid!, 'SIGKILL');
    }
  });
});
