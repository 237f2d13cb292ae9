import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { containersOf, docker, out, sandboxFixture } from '../../test/docker/sandbox-fixture.js';
import { BUSYBOX, NODE_IMAGE, SANDBOX_UID, captureLogger, context, shell, task } from '../../test/docker/test-helpers.js';
import { type DockerSandboxExecutor, SANDBOX_LABELS, dockerSandboxExecutor } from './index.js';

// What is particular to containers created for a task (cold) and to the host side: the per-run host
// directory, image handling, the sweeper. The hardening, on cold and warm containers alike, is in
// sandbox-hardening.int.test.ts.
const fx = sandboxFixture('wd');
const { roots, make } = fx;
const logger = captureLogger();

await describeWith(['docker'], 'docker sandbox executor (real engine)', () => {
  let ex: DockerSandboxExecutor;
  beforeAll(async () => {
    ex = await make({ killGraceMs: 300 });
  });
  afterAll(() => fx.closeAll());

  it('runs echo hello and cleans up the workdir and the container', async () => {
    const r = await ex.execute(task(shell('echo hello')), context(logger));
    expect(r.status).toBe('succeeded');
    expect(out(r)).toMatchObject({ exitCode: 0, stdout: 'hello\n', stderr: '', timedOut: false, oomKilled: false });
    expect(out(r).durationMs).toBeGreaterThanOrEqual(0);
    expect(await containersOf(ex.scope)).toEqual([]);
    expect(await readdir(roots[0]!)).toEqual([]);
  });

  it('with keepWorkdirs, makes /work the per-run host directory and keeps it, while the rootfs stays read-only', async () => {
    const kept = await make({ keepWorkdirs: true });
    const script = [
      'if touch /etc/x 2>/dev/null; then echo etc=writable; else echo etc=readonly; fi',
      'echo w > /work/out.txt && echo work=ok',
      'echo t > /tmp/t.txt && echo tmp=ok',
    ].join('\n');
    const t = task(shell(script), { requestId: 'runA:nodeB:2' });
    const r = await kept.execute(t, context(logger));
    expect(r.status).toBe('succeeded');
    expect(out(r).stdout).toBe('etc=readonly\nwork=ok\ntmp=ok\n');
    // /work was the per-run directory <root>/<org>/<run>/<node>/<attempt>; nothing else reached the root.
    const root = roots.at(-1)!;
    expect(readFileSync(join(root, 'org1', 'runA', 'nodeB', '2', 'out.txt'), 'utf8')).toBe('w\n');
    expect(await readdir(root)).toEqual(['org1']);
  });

  it('keeps task env and the script out of a running cold container: its inspect, its engine files and the host disk', async () => {
    const log = captureLogger();
    const canary = `canary-${uniquePrefix('c')}`;
    const cold = await make({
      env: { VESPID_T_SECRET: `${canary}-passthrough` },
      envPassthroughAllowlist: ['VESPID_T_SECRET'],
      logger: log,
    });
    const root = roots.at(-1)!;
    const controller = new AbortController();
    const payload = {
      task: {
        type: 'shell',
        script: `echo "$TASK_SECRET/$VESPID_T_SECRET"; sleep 30 # ${canary}-script`,
        env: { TASK_SECRET: `${canary}-task` },
      },
      sandbox: { envPassthroughAllowlist: ['VESPID_T_SECRET'] },
    };
    const running = cold.execute(task(payload), context(log, controller));
    const [busy] = await waitFor(
      async () => {
        const list = (await containersOf(cold.scope)).filter((c) => c.State === 'running');
        return list.length === 1 && list;
      },
      { what: 'the cold task running', timeoutMs: 30_000, intervalMs: 50 },
    );
    const info = await docker.getContainer(busy!.Id).inspect();
    expect(JSON.stringify(info)).not.toContain(canary);
    expect((info.Config.Env ?? []).join('\n')).not.toContain('SECRET');
    // Where the engine keeps the config on disk (readable when the tests run as root).
    const dockerRoot = (await docker.info()).DockerRootDir as string;
    const onDisk = await readFile(join(dockerRoot, 'containers', busy!.Id, 'config.v2.json'), 'utf8').catch(() => undefined);
    if (onDisk !== undefined) expect(onDisk).not.toContain(canary);
    // No script file beside the run directories: the workdir root holds the (empty) run directory only.
    expect(await readdir(root)).toEqual(['org1']);
    controller.abort();
    const r = await running;
    expect(r).toMatchObject({ status: 'failed', error: { code: 'TASK_CANCELLED' } });
    // The task did get both values.
    expect(out(r).stdout).toBe(`${canary}-task/${canary}-passthrough\n`);
    expect(JSON.stringify(r.status === 'failed' ? r.error : {})).not.toContain(canary);
    expect(log.lines.join('\n')).not.toContain(canary);
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

  it('refuses run ids that would escape the workdir root', async () => {
    const r = await ex.execute(task(shell('echo hi', undefined, { run: { runId: '..', nodeId: 'n', attempt: 0 } })), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'WORKDIR_ESCAPE' } });
    const r2 = await ex.execute(
      task(shell('echo hi', undefined, { run: { runId: 'a/../../x', nodeId: 'n', attempt: 0 } })),
      context(logger),
    );
    expect(r2).toMatchObject({ status: 'failed', error: { code: 'WORKDIR_ESCAPE' } });
  });

  it('sweeps the container left behind by a killed agent when the next agent starts', async () => {
    const root = await fx.root();
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
    await make({ workdirRoot: root, scope });
    expect(await containersOf(scope)).toEqual([]);
    expect(await readdir(root)).toEqual([]);
  });

  it('periodic sweep removes only containers past their deadline, sparing live ones of other agents', async () => {
    const scope = uniquePrefix('overdue');
    const root = await fx.root();
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
      // Not started: start() would sweep every container of another instance at once.
      const sweeper = dockerSandboxExecutor({ image: BUSYBOX, workdirRoot: root, scope, sweepIntervalMs: 0, sweepGraceMs: 1000, logger });
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
