import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { type FixtureOptions, containersOf, idleOf, out, sandboxFixture, taskContainersOf } from '../../test/docker/sandbox-fixture.js';
import { SANDBOX_UID, captureLogger, context, shell, task } from '../../test/docker/test-helpers.js';
import type { DockerSandboxExecutor } from './index.js';

// The sandbox's promises, checked on both kinds of container: one created for the task (cold) and a
// pre-created one taken from the pool (warm). Each run asserts which kind it ran in.
for (const { path, poolSize } of [
  { path: 'cold', poolSize: 0 },
  { path: 'pooled', poolSize: 2 },
] as const) {
  await describeWith(['docker'], `docker sandbox hardening, ${path} containers (real engine)`, () => {
    const fx = sandboxFixture(`hard-${path}`, { poolSize, killGraceMs: 300 });
    let ex: DockerSandboxExecutor;

    // With a pool, a case's executor starts with it full, so its tasks take pre-created containers.
    async function make(over: FixtureOptions = {}): Promise<DockerSandboxExecutor> {
      const made = await fx.make(over);
      if (poolSize > 0) await fx.ready(made, poolSize);
      return made;
    }

    /**
     * Runs one task on this suite's path: with a pool, waits until a warm container is held, then
     * checks the run took it. `onPath: false` for a run refused before any container.
     */
    async function run(
      on: DockerSandboxExecutor,
      payload: unknown,
      {
        controller,
        log = captureLogger(),
        onPath = true,
      }: { controller?: AbortController; log?: ReturnType<typeof captureLogger>; onPath?: boolean } = {},
    ) {
      if (onPath && poolSize > 0) await fx.ready(on, poolSize);
      const before = log.lines.length;
      const r = await on.execute(task(payload), context(log, controller));
      const finished = log.lines
        .slice(before)
        .map((l) => JSON.parse(l) as { msg?: string; path?: string })
        .filter((l) => l.msg === 'docker sandbox finished');
      expect(finished.map((l) => l.path)).toEqual(onPath ? [path] : []);
      return r;
    }

    // A cold container is removed before the result returns; a warm one right after, off the task's path.
    async function expectTaskContainersRemoved(on: DockerSandboxExecutor): Promise<void> {
      if (poolSize === 0) expect(await containersOf(on.scope)).toEqual([]);
      else
        await waitFor(async () => (await taskContainersOf(on.scope)).length === 0, { what: 'used containers removed', timeoutMs: 30_000 });
    }

    beforeAll(async () => {
      ex = await make();
    });
    afterAll(() => fx.closeAll());

    it('keeps the rootfs read-only, runs non-root without capabilities, and lets the script write only /work and /tmp', async () => {
      const script = [
        'if touch /etc/x 2>/dev/null; then echo etc=readonly-broken; else echo etc=readonly; fi',
        'echo w > /work/out.txt && echo work=ok',
        'echo t > /tmp/t.txt && echo tmp=ok',
        'echo uid=$(id -u)',
        'for p in /dev/shm/x /dev/mqueue/x /dev/x /x /home/x /vespid/x; do touch $p 2>/dev/null && echo "writable: $p"; done',
        // The script arrived through the launcher, which left it read-only.
        '(echo x >> /vespid/task.sh) 2>/dev/null && echo "writable: /vespid/task.sh"',
        'grep CapEff /proc/self/status',
      ].join('\n');
      const r = await run(ex, shell(script));
      expect(r.status).toBe('succeeded');
      expect(out(r).stdout).toBe(`etc=readonly\nwork=ok\ntmp=ok\nuid=${SANDBOX_UID}\nCapEff:\t0000000000000000\n`);
    });

    it('bounds /work: writing past VESPID_AGENT_DOCKER_WORKDIR_MAX_MB gets ENOSPC and fails with DOCKER_WORKDIR_FULL, off the host disk', async () => {
      const small = await make({ workdirMaxMb: 8 });
      // 64 MiB into an 8 MiB /work: dd stops at the limit with ENOSPC.
      const script = 'dd if=/dev/zero of=/work/big bs=1M count=64; rc=$?; echo "size=$(wc -c < /work/big)"; exit $rc';
      const r = await run(small, shell(script));
      expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_WORKDIR_FULL', retryable: false } });
      expect(out(r).stderr).toMatch(/No space left on device/);
      const written = Number(/size=(\d+)/.exec(out(r).stdout)?.[1]);
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThanOrEqual(8 * 1024 * 1024);
      expect(out(r).oomKilled).toBe(false);
      // Under the limit, /work is an ordinary writable directory of the sandbox user.
      const ok = await run(small, shell('dd if=/dev/zero of=/work/f bs=1M count=4 2>/dev/null && stat -c "%u %s" /work/f'));
      expect(ok).toMatchObject({ status: 'succeeded', output: { stdout: `${SANDBOX_UID} ${4 * 1024 * 1024}\n` } });
      // The bytes lived in the container's tmpfs, never under the host workdir root.
      expect(await readdir(fx.roots.at(-1)!)).toEqual([]);
      await expectTaskContainersRemoved(small);
    });

    it('has no network interface but lo by default, and refuses a bridge opt-in the operator does not allow', async () => {
      const r = await run(ex, shell('ls /sys/class/net'));
      expect(out(r).stdout.trim().split(/\s+/)).toEqual(['lo']);
      const refused = await run(ex, shell('echo hi', { network: 'bridge' }), { onPath: false });
      expect(refused).toMatchObject({ status: 'failed', error: { code: 'NETWORK_NOT_ALLOWED' } });
    });

    it('gives a bridge network when the node opts in and the operator allows it', async () => {
      // The pool pre-creates for the operator's default network: here, the bridge.
      const net = await make({ allowNetwork: true, networkDefault: 'bridge' });
      const r = await run(net, shell('ls /sys/class/net', { network: 'bridge' }));
      expect(out(r).stdout).toContain('eth0');
    });

    it('stops a script past its timeout with SIGTERM (NODE_EXECUTION_TIMEOUT) and removes the container', async () => {
      const r = await run(ex, shell('echo started; sleep 30', { timeoutMs: 500 }));
      expect(r).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT', retryable: false } });
      // 143 = ended by SIGTERM: the init forwarded it.
      expect(out(r)).toMatchObject({ timedOut: true, exitCode: 143, stdout: 'started\n' });
      await expectTaskContainersRemoved(ex);
    });

    it('still kills a script that ignores SIGTERM', async () => {
      const r = await run(ex, shell("trap '' TERM; echo trapped; while :; do sleep 1; done", { timeoutMs: 400 }));
      expect(r).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
      // 137 = killed by SIGKILL: SIGTERM alone did not end it.
      expect(out(r)).toMatchObject({ timedOut: true, exitCode: 137, stdout: 'trapped\n' });
      await expectTaskContainersRemoved(ex);
    });

    it('cuts an output flood exactly at the cap on both streams', async () => {
      const capped = await make({ outputMaxChars: 1000 });
      const script = 'head -c 3000000 /dev/zero | tr "\\0" a; head -c 2000000 /dev/zero | tr "\\0" b >&2; echo done >&2';
      const r = await run(capped, shell(script));
      expect(r.status).toBe('succeeded');
      expect(out(r).stdout).toBe('a'.repeat(1000));
      expect(out(r).stderr).toBe('b'.repeat(1000));
      expect(out(r)).toMatchObject({ stdoutTruncated: true, stderrTruncated: true });
    });

    it('contains a fork bomb with the pids limit and keeps the host usable', async () => {
      const bombed = await make({ pids: 32, killGraceMs: 200 });
      const r = await run(bombed, shell('bomb() { bomb | bomb & }; bomb; sleep 1; echo after', { timeoutMs: 3000 }));
      // Whether the script's own `sleep` still gets a pid is a race with the bomb; what is certain is
      // that forks are refused at the limit, the run ends, and everything is cleaned up.
      expect(['succeeded', 'failed']).toContain(r.status);
      expect(out(r).stderr).toMatch(/can't fork|Resource temporarily unavailable/);
      await expectTaskContainersRemoved(bombed);
      const after = await run(bombed, shell('echo fine'));
      expect(out(after).stdout).toBe('fine\n');
    });

    it('reports a memory hog as DOCKER_OOM_KILLED', async () => {
      // The container limit is memoryMb plus the /work tmpfs (its pages are memory): keep both small.
      const small = await make({ memoryMb: 32, workdirMaxMb: 8 });
      const r = await run(small, shell('x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived'));
      expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_OOM_KILLED' } });
      expect(out(r).oomKilled).toBe(true);
      // A killed child while the script goes on to exit 0 is still an OOM. The child raises its own
      // oom_score_adj so the kernel always picks it, not the script, even on a loaded machine.
      const child = await run(
        small,
        shell('(echo 1000 > /proc/self/oom_score_adj; x=$(head -c 200000000 /dev/zero | tr "\\0" a)); echo went-on'),
      );
      expect(child).toMatchObject({
        status: 'failed',
        error: { code: 'DOCKER_OOM_KILLED' },
        output: { exitCode: 0, oomKilled: true, stdout: 'went-on\n' },
      });
    });

    it('maps exit 3 to DOCKER_EXIT_CODE:3 and keeps the output', async () => {
      const r = await run(ex, shell('echo out; echo err >&2; exit 3'));
      expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_EXIT_CODE:3', retryable: false } });
      expect(out(r)).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    });

    it('passes only env keys allowed by both the node and the operator, and never logs their values', async () => {
      const log = captureLogger();
      const env = { VESPID_T_A: 'canary-a-7f3e', VESPID_T_B: 'canary-b-91c2', VESPID_T_C: 'canary-c-55d0', PATH: '/agent/only' };
      const withEnv = await make({ env, envPassthroughAllowlist: ['VESPID_T_A', 'VESPID_T_B'], logger: log });
      const payload = {
        task: { type: 'shell', script: 'env | sort', env: { PLAIN: 'yes' } },
        sandbox: { envPassthroughAllowlist: ['VESPID_T_A'] },
      };
      const r = await run(withEnv, payload, { log });
      expect(r.status).toBe('succeeded');
      const lines = out(r).stdout.split('\n');
      expect(lines).toContain('VESPID_T_A=canary-a-7f3e');
      expect(lines).toContain('PLAIN=yes');
      expect(out(r).stdout).not.toContain('canary-b');
      expect(out(r).stdout).not.toContain('canary-c');
      expect(out(r).stdout).not.toContain('/agent/only');

      const refused = await run(withEnv, shell('env', { envPassthroughAllowlist: ['VESPID_T_A', 'VESPID_T_C'] }), { log, onPath: false });
      expect(refused).toMatchObject({ status: 'failed', error: { code: 'ENV_NOT_ALLOWED', details: { keys: ['VESPID_T_C'] } } });
      expect(JSON.stringify(refused)).not.toContain('canary');
      expect(log.lines.length).toBeGreaterThan(0);
      expect(log.lines.join('\n')).not.toMatch(/canary-/);
    });

    it('cancels a running script with TASK_CANCELLED and removes the container', async () => {
      const controller = new AbortController();
      const running = run(ex, shell('echo go; sleep 30'), { controller });
      await waitFor(async () => (await containersOf(ex.scope)).some((c) => c.State === 'running'), {
        what: 'the task container running',
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      controller.abort(new Error('cancel from gateway'));
      expect(await running).toMatchObject({ status: 'failed', error: { code: 'TASK_CANCELLED' } });
      await expectTaskContainersRemoved(ex);
    });

    it('aborts running tasks with AGENT_SHUTDOWN on close() and removes every container, idle warm ones too', async () => {
      const closing = await make();
      const running = run(closing, shell('sleep 30'));
      await waitFor(async () => (await containersOf(closing.scope)).some((c) => c.State === 'running'), {
        what: 'the task container running',
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      // The pool refilled beside the running task: close must remove those never-started ones too.
      await waitFor(async () => (await idleOf(closing.scope)).length === poolSize, { what: 'the pool refilled', timeoutMs: 30_000 });
      await closing.close({ timeoutMs: 10_000 });
      expect(await running).toMatchObject({ status: 'failed', error: { code: 'AGENT_SHUTDOWN' } });
      expect(closing.closed).toBe(true);
      expect(await containersOf(closing.scope)).toEqual([]);
      expect(existsSync(join(fx.roots.at(-1)!, 'org1'))).toBe(false);
    });
  });
}
