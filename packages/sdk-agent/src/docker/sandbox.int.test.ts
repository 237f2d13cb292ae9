import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { type DockerSandboxExecutor, type DockerSandboxOptions, SANDBOX_LABELS, dockerSandboxExecutor } from './index.js';
import type { SandboxOutput } from './outcome.js';
import { BUSYBOX, NODE_IMAGE, SANDBOX_UID, captureLogger, context, shell, task } from '../../test/docker/test-helpers.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const docker = new Dockerode();
const roots: string[] = [];
const executors: DockerSandboxExecutor[] = [];
const logger = captureLogger();

async function make(over: DockerSandboxOptions = {}): Promise<DockerSandboxExecutor> {
  const root = await mkdtemp(join(tmpdir(), 'vespid-wd-'));
  roots.push(root);
  const ex = dockerSandboxExecutor({ image: BUSYBOX, workdirRoot: root, scope: uniquePrefix('sb'), sweepIntervalMs: 0, logger, ...over });
  executors.push(ex);
  await ex.start();
  return ex;
}

async function containersOf(scope: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.scope}=${scope}`] } });
}

const out = (r: { output?: unknown }) => r.output as SandboxOutput;

await describeWith(['docker'], 'docker sandbox executor (real engine)', () => {
  let ex: DockerSandboxExecutor;
  beforeAll(async () => {
    ex = await make({ killGraceMs: 300 });
  });
  afterAll(async () => {
    for (const e of executors) await e.close();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('runs echo hello and cleans up the workdir and the container', async () => {
    const r = await ex.execute(task(shell('echo hello')), context(logger));
    expect(r.status).toBe('succeeded');
    expect(out(r)).toMatchObject({ exitCode: 0, stdout: 'hello\n', stderr: '', timedOut: false, oomKilled: false });
    expect(out(r).durationMs).toBeGreaterThanOrEqual(0);
    expect(await containersOf(ex.scope)).toEqual([]);
    expect(await readdir(roots[0]!)).toEqual([]);
  });

  it('keeps the rootfs read-only while /work and /tmp are writable, as a non-root user', async () => {
    const kept = await make({ keepWorkdirs: true });
    const script = [
      'if touch /etc/x 2>/dev/null; then echo etc=writable; else echo etc=readonly; fi',
      'echo w > /work/out.txt && echo work=ok',
      'echo t > /tmp/t.txt && echo tmp=ok',
      'echo uid=$(id -u)',
      'for p in /dev/shm/x /dev/mqueue/x /dev/x /x /home/x; do touch $p 2>/dev/null && echo "writable: $p"; done',
      'echo checked',
    ].join('\n');
    const t = task(shell(script), { requestId: 'runA:nodeB:2' });
    const r = await kept.execute(t, context(logger));
    expect(r.status).toBe('succeeded');
    expect(out(r).stdout).toBe(`etc=readonly\nwork=ok\ntmp=ok\nuid=${SANDBOX_UID}\nchecked\n`);
    // /work was the per-run directory <root>/<org>/<run>/<node>/<attempt>.
    const root = roots.at(-1)!;
    expect(readFileSync(join(root, 'org1', 'runA', 'nodeB', '2', 'out.txt'), 'utf8')).toBe('w\n');
  });

  it('bounds /work: writing past VESPID_AGENT_DOCKER_WORKDIR_MAX_MB gets ENOSPC and fails with DOCKER_WORKDIR_FULL, off the host disk', async () => {
    const small = await make({ workdirMaxMb: 8 });
    const root = roots.at(-1)!;
    // 64 MiB into an 8 MiB /work: dd stops at the limit with ENOSPC.
    const script = 'dd if=/dev/zero of=/work/big bs=1M count=64; rc=$?; echo "size=$(wc -c < /work/big)"; exit $rc';
    const r = await small.execute(task(shell(script)), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_WORKDIR_FULL', retryable: false } });
    expect(out(r).stderr).toMatch(/No space left on device/);
    const written = Number(/size=(\d+)/.exec(out(r).stdout)?.[1]);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(out(r).oomKilled).toBe(false);
    // Under the limit, /work is an ordinary writable directory of the sandbox user.
    const ok = await small.execute(
      task(shell('dd if=/dev/zero of=/work/f bs=1M count=4 2>/dev/null && stat -c "%u %s" /work/f')),
      context(logger),
    );
    expect(ok).toMatchObject({ status: 'succeeded', output: { stdout: `${SANDBOX_UID} ${4 * 1024 * 1024}\n` } });
    // The bytes lived in the container's tmpfs, never under the host workdir root.
    expect(await readdir(root)).toEqual([]);
    expect(await containersOf(small.scope)).toEqual([]);
  });

  it('covers an image VOLUME with a read-only tmpfs instead of a writable anonymous volume', async () => {
    const base = await docker.createContainer({ Image: BUSYBOX, Cmd: ['true'] });
    const image = `vespid/sandbox-volume:${uniquePrefix('t').toLowerCase()}`;
    const [repo, tag] = image.split(':');
    try {
      await base.commit({ repo, tag, changes: 'VOLUME ["/data"]' });
      const withVolume = await make({ imageAllowlist: [image] });
      const r = await withVolume.execute(task(shell('touch /data/x 2>&1; echo done', { docker: { image } })), context(logger));
      expect(out(r).stdout).toMatch(/Read-only file system\ndone\n$/);
    } finally {
      await base.remove({ force: true });
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => {});
    }
  });

  it('has no network interface but lo by default, and refuses a bridge opt-in the operator does not allow', async () => {
    const r = await ex.execute(task(shell('ls /sys/class/net')), context(logger));
    expect(out(r).stdout.trim().split(/\s+/)).toEqual(['lo']);
    const refused = await ex.execute(task(shell('echo hi', { network: 'bridge' })), context(logger));
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'NETWORK_NOT_ALLOWED' } });
  });

  it('gives a bridge network when the node opts in and the operator allows it', async () => {
    const net = await make({ allowNetwork: true });
    const r = await net.execute(task(shell('ls /sys/class/net', { network: 'bridge' })), context(logger));
    expect(out(r).stdout).toContain('eth0');
  });

  it('stops a script past its timeout with NODE_EXECUTION_TIMEOUT and removes the container', async () => {
    const r = await ex.execute(task(shell('echo started; sleep 30', { timeoutMs: 500 })), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT', retryable: false } });
    expect(out(r)).toMatchObject({ timedOut: true, stdout: 'started\n' });
    expect(await containersOf(ex.scope)).toEqual([]);
  });

  it('still kills a script that ignores SIGTERM', async () => {
    const r = await ex.execute(task(shell("trap '' TERM; echo trapped; while :; do sleep 1; done", { timeoutMs: 400 })), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
    // 137 = killed by SIGKILL: SIGTERM alone did not end it.
    expect(out(r)).toMatchObject({ timedOut: true, exitCode: 137, stdout: 'trapped\n' });
    expect(await containersOf(ex.scope)).toEqual([]);
  });

  it('cuts an output flood exactly at the cap on both streams', async () => {
    const capped = await make({ outputMaxChars: 1000 });
    const script = 'head -c 3000000 /dev/zero | tr "\\0" a; head -c 2000000 /dev/zero | tr "\\0" b >&2; echo done >&2';
    const r = await capped.execute(task(shell(script)), context(logger));
    expect(r.status).toBe('succeeded');
    expect(out(r).stdout).toBe('a'.repeat(1000));
    expect(out(r).stderr).toBe('b'.repeat(1000));
    expect(out(r)).toMatchObject({ stdoutTruncated: true, stderrTruncated: true });
  });

  it('contains a fork bomb with the pids limit and keeps the host usable', async () => {
    const bombed = await make({ pids: 32, killGraceMs: 200 });
    const r = await bombed.execute(
      task(shell('bomb() { bomb | bomb & }; bomb; sleep 1; echo after', { timeoutMs: 3000 })),
      context(logger),
    );
    // Whether the script's own `sleep` still gets a pid is a race with the bomb; what is certain is
    // that forks are refused at the limit, the run ends, and everything is cleaned up.
    expect(['succeeded', 'failed']).toContain(r.status);
    expect(out(r).stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(await containersOf(bombed.scope)).toEqual([]);
    const after = await bombed.execute(task(shell('echo fine')), context(logger));
    expect(out(after).stdout).toBe('fine\n');
  });

  it('reports a memory hog as DOCKER_OOM_KILLED', async () => {
    // The container limit is memoryMb plus the /work tmpfs (its pages are memory): keep both small.
    const small = await make({ memoryMb: 32, workdirMaxMb: 8 });
    const r = await small.execute(task(shell('x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived')), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_OOM_KILLED' } });
    expect(out(r).oomKilled).toBe(true);
    // A killed child while the script goes on to exit 0 is still an OOM. The child raises its own
    // oom_score_adj so the kernel always picks it, not the script, even on a loaded machine.
    const child = await small.execute(
      task(shell('(echo 1000 > /proc/self/oom_score_adj; x=$(head -c 200000000 /dev/zero | tr "\\0" a)); echo went-on')),
      context(logger),
    );
    expect(child).toMatchObject({
      status: 'failed',
      error: { code: 'DOCKER_OOM_KILLED' },
      output: { exitCode: 0, oomKilled: true, stdout: 'went-on\n' },
    });
  });

  it('runs several nodes of one run at once, each in its own /work, and cleans every directory', async () => {
    const runs = ['a', 'b', 'c', 'd'].map((node) =>
      ex.execute(
        task(shell(`echo ${node} > /work/me; sleep 0.2; cat /work/me; ls /work`), { requestId: `runP:${node}:0` }),
        context(logger),
      ),
    );
    const results = await Promise.all(runs);
    expect(results.map((r) => out(r).stdout)).toEqual(['a\nme\n', 'b\nme\n', 'c\nme\n', 'd\nme\n']);
    expect(await readdir(roots[0]!)).toEqual([]);
  });

  it('runs node in the image a node asks for, writing into /work', async () => {
    const script =
      "node -e \"require('fs').writeFileSync('/work/n.txt', String(6*7)); console.log(process.getuid(), require('fs').readFileSync('/work/n.txt', 'utf8'))\"";
    const withNode = await make({ imageAllowlist: [NODE_IMAGE] });
    const r = await withNode.execute(task(shell(script, { docker: { image: NODE_IMAGE } })), context(logger));
    expect(r, JSON.stringify(r)).toMatchObject({ status: 'succeeded', output: { stdout: `${SANDBOX_UID} 42\n` } });
  });

  it('refuses an image present on the host but not allowed by the operator (IMAGE_NOT_ALLOWED), and creates no container', async () => {
    // The node image is on this host: without the allowlist any member could run (and read) it.
    const r = await ex.execute(task(shell('cat /etc/os-release; id', { docker: { image: NODE_IMAGE } })), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'IMAGE_NOT_ALLOWED', retryable: false } });
    expect(r).not.toHaveProperty('output');
    expect(await containersOf(ex.scope)).toEqual([]);
    // The operator's own image may always be named explicitly.
    expect(await ex.execute(task(shell('echo same', { docker: { image: BUSYBOX } })), context(logger))).toMatchObject({
      status: 'succeeded',
    });
  });

  it('maps exit 3 to DOCKER_EXIT_CODE:3 and keeps the output', async () => {
    const r = await ex.execute(task(shell('echo out; echo err >&2; exit 3')), context(logger));
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
    const r = await withEnv.execute(task(payload), context(log));
    expect(r.status).toBe('succeeded');
    const lines = out(r).stdout.split('\n');
    expect(lines).toContain('VESPID_T_A=canary-a-7f3e');
    expect(lines).toContain('PLAIN=yes');
    expect(out(r).stdout).not.toContain('canary-b');
    expect(out(r).stdout).not.toContain('canary-c');
    expect(out(r).stdout).not.toContain('/agent/only');

    const refused = await withEnv.execute(task(shell('env', { envPassthroughAllowlist: ['VESPID_T_A', 'VESPID_T_C'] })), context(log));
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'ENV_NOT_ALLOWED', details: { keys: ['VESPID_T_C'] } } });
    expect(JSON.stringify(refused)).not.toContain('canary');
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toMatch(/canary-/);
  });

  it('reports an absent image as DOCKER_IMAGE_NOT_FOUND, and a failed pull too', async () => {
    const def = await make({ image: 'vespid/absent-image:never-built' });
    const r = await def.execute(task(shell('echo hi')), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_IMAGE_NOT_FOUND', retryable: false } });
    const pulled = await make({ allowPull: true, imageAllowlist: ['127.0.0.1:1/vespid/none:test'] });
    const p = await pulled.execute(task(shell('echo hi', { docker: { image: '127.0.0.1:1/vespid/none:test' } })), context(logger));
    expect(p).toMatchObject({ status: 'failed', error: { code: 'DOCKER_IMAGE_NOT_FOUND' } });
  });

  it('still reports DOCKER_IMAGE_NOT_FOUND when a cached image is removed, and finds it again once re-tagged', async () => {
    const tag = `perf-${uniquePrefix('img')
      .replace(/[^a-z0-9-]/gi, '')
      .toLowerCase()}`;
    const image = `vespid/sandbox-busybox:${tag}`;
    const retag = () => docker.getImage(BUSYBOX).tag({ repo: 'vespid/sandbox-busybox', tag });
    await retag();
    try {
      const tagged = await make({ image });
      expect(await tagged.execute(task(shell('echo one')), context(logger))).toMatchObject({ status: 'succeeded' });
      await docker.getImage(image).remove();
      const gone = await tagged.execute(task(shell('echo two')), context(logger));
      expect(gone).toMatchObject({ status: 'failed', error: { code: 'DOCKER_IMAGE_NOT_FOUND' } });
      await retag();
      expect(await tagged.execute(task(shell('echo three')), context(logger))).toMatchObject({ status: 'succeeded' });
      expect(await containersOf(tagged.scope)).toEqual([]);
    } finally {
      await docker
        .getImage(image)
        .remove()
        .catch(() => undefined);
    }
  });

  it('reports an unreachable engine as retryable DOCKER_FAILED', async () => {
    const down = await make({ socketPath: join(tmpdir(), 'vespid-no-such-docker.sock') });
    const r = await down.execute(task(shell('echo hi')), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_FAILED', retryable: true } });
  });

  it('cancels a running script with TASK_CANCELLED and removes the container', async () => {
    const controller = new AbortController();
    const running = ex.execute(task(shell('echo go; sleep 30')), context(logger, controller));
    setTimeout(() => controller.abort(new Error('cancel from gateway')), 700);
    const r = await running;
    expect(r).toMatchObject({ status: 'failed', error: { code: 'TASK_CANCELLED' } });
    expect(await containersOf(ex.scope)).toEqual([]);
  });

  it('refuses run ids that would escape the workdir root', async () => {
    const r = await ex.execute(task(shell('echo hi', undefined, { run: { runId: '..', nodeId: 'n', attempt: 0 } })), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'WORKDIR_ESCAPE' } });
    const r2 = await ex.execute(
      task(shell('echo hi', undefined, { run: { runId: 'a/../../x', nodeId: 'n', attempt: 0 } })),
      context(logger),
    );
    expect(r2).toMatchObject({ status: 'failed', error: { code: 'WORKDIR_ESCAPE' } });
  });

  it('aborts running tasks with AGENT_SHUTDOWN on close()', async () => {
    const closing = await make();
    const running = closing.execute(task(shell('sleep 30')), context(logger));
    await waitFor(async () => (await containersOf(closing.scope)).some((c) => c.State === 'running'), {
      what: 'the task container running',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    await closing.close({ timeoutMs: 10_000 });
    expect(await running).toMatchObject({ status: 'failed', error: { code: 'AGENT_SHUTDOWN' } });
    expect(closing.closed).toBe(true);
    expect(await containersOf(closing.scope)).toEqual([]);
    expect(existsSync(join(roots.at(-1)!, 'org1'))).toBe(false);
  });

  it('sweeps the container left behind by a killed agent when the next agent starts', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vespid-wd-'));
    roots.push(root);
    const scope = uniquePrefix('orphan');
    const fixture = fileURLToPath(new URL('../../test/docker/orphan-agent.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, ORPHAN_WORKDIR_ROOT: root, ORPHAN_SCOPE: scope },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const running = await waitFor(
        async () => {
          const now = (await containersOf(scope)).filter((c) => c.State === 'running');
          return now.length > 0 && now;
        },
        { what: 'the orphan container running', timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(running).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // The container outlives its agent ...
    expect(await containersOf(scope)).toHaveLength(1);
    expect(existsSync(join(root, 'org1', 'orphanrun', 'n1', '0'))).toBe(true);
    // ... until the next agent of the same scope starts.
    const next = dockerSandboxExecutor({ image: BUSYBOX, workdirRoot: root, scope, sweepIntervalMs: 0, logger });
    executors.push(next);
    await next.start();
    expect(await containersOf(scope)).toEqual([]);
    expect(await readdir(root)).toEqual([]);
  });

  it('periodic sweep removes only containers past their deadline, sparing live ones of other agents', async () => {
    const scope = uniquePrefix('overdue');
    const root = await mkdtemp(join(tmpdir(), 'vespid-wd-'));
    roots.push(root);
    const labels = (deadline: number) => ({
      [SANDBOX_LABELS.sandbox]: '1',
      [SANDBOX_LABELS.scope]: scope,
      [SANDBOX_LABELS.instance]: 'another-agent',
      [SANDBOX_LABELS.deadline]: String(deadline),
    });
    const mk = (deadline: number) =>
      docker.createContainer({ Image: BUSYBOX, Cmd: ['sleep', '60'], Labels: labels(deadline), HostConfig: { NetworkMode: 'none' } });
    const overdue = await mk(Date.now() - 10_000);
    const live = await mk(Date.now() + 600_000);
    try {
      const sweeper = dockerSandboxExecutor({ image: BUSYBOX, workdirRoot: root, scope, sweepIntervalMs: 0, sweepGraceMs: 1000, logger });
      executors.push(sweeper);
      expect(await sweeper.sweep()).toBe(1);
      const left = await containersOf(scope);
      expect(left.map((c) => c.Id)).toEqual([live.id]);
      expect(overdue.id).not.toBe(live.id);
    } finally {
      await live.remove({ force: true }).catch(() => {});
      await overdue.remove({ force: true }).catch(() => {});
    }
  });
});
