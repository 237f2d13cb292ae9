import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { BUSYBOX, SANDBOX_UID, captureLogger, context, shell, task } from '../../test/docker/test-helpers.js';
import { type DockerSandboxExecutor, type DockerSandboxOptions, SANDBOX_LABELS, dockerSandboxExecutor } from './index.js';
import type { SandboxOutput } from './outcome.js';

// The warm pool against the real engine: one task per pre-created container, secrets never in its
// config, bounded refills, cleanup on close and after a killed agent, and the cold path's hardening.
const docker = new Dockerode();
const roots: string[] = [];
const executors: DockerSandboxExecutor[] = [];
const logger = captureLogger();
const out = (r: { output?: unknown }) => r.output as SandboxOutput;

async function make(over: DockerSandboxOptions = {}): Promise<DockerSandboxExecutor> {
  const root = await mkdtemp(join(tmpdir(), 'vespid-wdp-'));
  roots.push(root);
  const ex = dockerSandboxExecutor({
    image: BUSYBOX,
    workdirRoot: root,
    scope: uniquePrefix('pool'),
    sweepIntervalMs: 0,
    killGraceMs: 300,
    poolSize: 2,
    logger,
    ...over,
  });
  executors.push(ex);
  await ex.start();
  return ex;
}

const containersOf = (scope: string) => docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.scope}=${scope}`] } });
const idleOf = async (scope: string) => (await containersOf(scope)).filter((c) => c.State === 'created' && c.Labels[SANDBOX_LABELS.pool]);
const ready = (ex: DockerSandboxExecutor, n = 2) =>
  waitFor(async () => (await idleOf(ex.scope)).length === n && idleOf(ex.scope), {
    what: `${n} warm containers`,
    timeoutMs: 30_000,
    intervalMs: 50,
  });

await describeWith(['docker'], 'docker sandbox warm pool (real engine)', () => {
  let ex: DockerSandboxExecutor;
  beforeAll(async () => {
    ex = await make();
  });
  afterAll(async () => {
    for (const e of executors) await e.close();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('pre-creates a bounded pool, runs one task per container, removes it and refills', async () => {
    const used = new Set<string>();
    let preCreated = 0;
    for (let i = 0; i < 3; i++) {
      // The engine lists a container a moment before the agent has its create answer: a task in that
      // moment gets a container created for it. Over three tasks, most take a pre-created one.
      const idle = new Set((await ready(ex)).map((c) => c.Id.slice(0, 12)));
      // HOSTNAME is the short container id: it tells which container ran the task.
      const r = await ex.execute(task(shell('hostname')), context(logger));
      expect(r.status).toBe('succeeded');
      const host = out(r).stdout.trim();
      expect(used.has(host)).toBe(false);
      used.add(host);
      if (idle.has(host)) preCreated++;
      // Never more than poolSize warm containers, whatever the refills.
      expect((await idleOf(ex.scope)).length).toBeLessThanOrEqual(2);
    }
    expect(preCreated).toBeGreaterThan(0);
    // The last used container is removed in the background, after its result was returned.
    const now = await waitFor(
      async () => {
        const list = await containersOf(ex.scope);
        return list.length === 2 && list;
      },
      { what: 'only the two warm containers left', timeoutMs: 30_000, intervalMs: 50 },
    );
    for (const c of now) expect(used.has(c.Id.slice(0, 12))).toBe(false);
  });

  it('keeps task env and secrets out of the container config, its inspect and the engine files', async () => {
    const log = captureLogger();
    const canary = `canary-${uniquePrefix('s')}`;
    // poolSize 1 and two tasks at once: one runs in a pre-created container, the other in one created
    // for it because the pool was empty. Neither may carry the values in its config.
    const secret = await make({
      poolSize: 1,
      env: { VESPID_T_SECRET: `${canary}-passthrough` },
      envPassthroughAllowlist: ['VESPID_T_SECRET'],
      logger: log,
    });
    await ready(secret, 1);
    const controller = new AbortController();
    const payload = {
      task: { type: 'shell', script: 'echo "$TASK_SECRET/$VESPID_T_SECRET"; sleep 30', env: { TASK_SECRET: `${canary}-task` } },
      sandbox: { envPassthroughAllowlist: ['VESPID_T_SECRET'] },
    };
    const runs = [secret.execute(task(payload), context(log, controller)), secret.execute(task(payload), context(log, controller))];
    const busy = await waitFor(
      async () => {
        const list = (await containersOf(secret.scope)).filter((c) => c.State === 'running');
        return list.length === 2 && list;
      },
      { what: 'both tasks running', timeoutMs: 30_000, intervalMs: 50 },
    );
    const dockerRoot = (await docker.info()).DockerRootDir as string;
    for (const c of busy) {
      const info = await docker.getContainer(c.Id).inspect();
      expect(JSON.stringify(info)).not.toContain(canary);
      expect((info.Config.Env ?? []).join('\n')).not.toContain('SECRET');
      // Where the engine keeps the config on disk (readable when the tests run as root).
      const onDisk = await readFile(join(dockerRoot, 'containers', c.Id, 'config.v2.json'), 'utf8').catch(() => undefined);
      if (onDisk !== undefined) expect(onDisk).not.toContain(canary);
    }
    controller.abort();
    for (const r of await Promise.all(runs)) {
      expect(r).toMatchObject({ status: 'failed', error: { code: 'TASK_CANCELLED' } });
      // The task did get both values.
      expect(out(r).stdout).toBe(`${canary}-task/${canary}-passthrough\n`);
      expect(JSON.stringify(r.status === 'failed' ? r.error : {})).not.toContain(canary);
    }
    expect(log.lines.join('\n')).not.toContain(canary);
  });

  it('gives the same result content as the cold path', async () => {
    const cold = await make({ poolSize: 0 });
    await ready(ex);
    const scripts = [
      'echo out; echo err >&2; echo "$0"; env | grep -v ^HOSTNAME= | sort; cat; id',
      'echo partial; exit 3',
      "printf 'no newline'",
    ];
    for (const s of scripts) {
      const t = shell(s, undefined, { task: { type: 'shell', script: s, env: { A: "x'y $HOME" } } });
      const [w, c] = [await ex.execute(task(t), context(logger)), await cold.execute(task(t), context(logger))];
      const strip = (r: typeof w) => ({ ...r, output: { ...out(r), durationMs: 0 } });
      expect(strip(w)).toEqual(strip(c));
    }
  });

  it('keeps the hardening: read-only rootfs, non-root, only /work and /tmp writable, no network', async () => {
    await ready(ex);
    const script = [
      'if touch /etc/x 2>/dev/null; then echo etc=writable; else echo etc=readonly; fi',
      'echo w > /work/out.txt && echo work=ok',
      'echo t > /tmp/t.txt && echo tmp=ok',
      'echo uid=$(id -u)',
      'for p in /dev/shm/x /dev/mqueue/x /dev/x /x /home/x /vespid/x; do touch $p 2>/dev/null && echo "writable: $p"; done',
      // The script arrived through the launcher, which left it read-only.
      '(echo x >> /vespid/task.sh) 2>/dev/null && echo "writable: /vespid/task.sh"',
      'ls /sys/class/net',
      'grep -c . /proc/self/status >/dev/null && grep CapEff /proc/self/status',
    ].join('\n');
    const r = await ex.execute(task(shell(script)), context(logger));
    expect(r.status).toBe('succeeded');
    expect(out(r).stdout).toBe(`etc=readonly\nwork=ok\ntmp=ok\nuid=${SANDBOX_UID}\nlo\nCapEff:\t0000000000000000\n`);
  });

  it('times out with SIGTERM, then SIGKILL for a script that ignores it, as cold runs do', async () => {
    await ready(ex);
    const term = await ex.execute(task(shell('echo started; sleep 30', { timeoutMs: 500 })), context(logger));
    expect(term).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
    expect(out(term)).toMatchObject({ timedOut: true, exitCode: 143, stdout: 'started\n' });
    await ready(ex);
    const kill = await ex.execute(
      task(shell("trap '' TERM; echo trapped; while :; do sleep 1; done", { timeoutMs: 400 })),
      context(logger),
    );
    expect(out(kill)).toMatchObject({ timedOut: true, exitCode: 137, stdout: 'trapped\n' });
  });

  it('caps output, contains a memory hog (DOCKER_OOM_KILLED) and maps exit codes', async () => {
    const small = await make({ memoryMb: 32, workdirMaxMb: 8, outputMaxChars: 1000 });
    await ready(small);
    const flood = await small.execute(task(shell('head -c 3000000 /dev/zero | tr "\\0" a; echo done >&2')), context(logger));
    expect(out(flood)).toMatchObject({ stdout: 'a'.repeat(1000), stdoutTruncated: true, stderr: 'done\n' });
    const hog = await small.execute(task(shell('x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived')), context(logger));
    expect(hog).toMatchObject({ status: 'failed', error: { code: 'DOCKER_OOM_KILLED' }, output: { oomKilled: true } });
    const three = await small.execute(task(shell('exit 3')), context(logger));
    expect(three).toMatchObject({ status: 'failed', error: { code: 'DOCKER_EXIT_CODE:3' }, output: { exitCode: 3 } });
  });

  it('removes the whole pool on close', async () => {
    const closing = await make();
    await ready(closing);
    const running = closing.execute(task(shell('sleep 30')), context(logger));
    await waitFor(async () => (await containersOf(closing.scope)).some((c) => c.State === 'running'), {
      what: 'a warm container running',
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await closing.close({ timeoutMs: 10_000 });
    expect(await running).toMatchObject({ status: 'failed', error: { code: 'AGENT_SHUTDOWN' } });
    expect(await containersOf(closing.scope)).toEqual([]);
  });

  it('leaves the pool of a killed agent to the next start of its scope, which sweeps nothing else', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vespid-wdp-'));
    roots.push(root);
    const scope = uniquePrefix('porphan');
    const other = uniquePrefix('pother');
    const bystander = await docker.createContainer({
      Image: BUSYBOX,
      Cmd: ['true'],
      Labels: { [SANDBOX_LABELS.sandbox]: '1', [SANDBOX_LABELS.scope]: other, [SANDBOX_LABELS.instance]: 'x', [SANDBOX_LABELS.pool]: 'k' },
      HostConfig: { NetworkMode: 'none' },
    });
    const fixture = fileURLToPath(new URL('../../test/docker/orphan-agent.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, ORPHAN_WORKDIR_ROOT: root, ORPHAN_SCOPE: scope, ORPHAN_POOL_SIZE: '2' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      // One task running in a warm container and the refilled pool of two beside it.
      await waitFor(
        async () => {
          const now = await containersOf(scope);
          return now.some((c) => c.State === 'running') && now.filter((c) => c.State === 'created').length === 2;
        },
        { what: 'the orphan task running beside a full pool', timeoutMs: 30_000, intervalMs: 100 },
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(await containersOf(scope)).toHaveLength(3);
    const next = dockerSandboxExecutor({ image: BUSYBOX, workdirRoot: root, scope, sweepIntervalMs: 0, logger });
    executors.push(next);
    try {
      await next.start();
      expect(await containersOf(scope)).toEqual([]);
      expect((await containersOf(other)).map((c) => c.Id)).toEqual([bystander.id]);
    } finally {
      await bystander.remove({ force: true }).catch(() => {});
    }
  });
});
