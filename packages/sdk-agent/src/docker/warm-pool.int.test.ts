import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { containersOf, docker, idleOf, out, sandboxFixture } from '../../test/docker/sandbox-fixture.js';
import { BUSYBOX, captureLogger, context, shell, task } from '../../test/docker/test-helpers.js';
import { type DockerSandboxExecutor, SANDBOX_LABELS } from './index.js';

// What is particular to the warm pool, against the real engine: bounded pre-creation, one task per
// container, refills, the same results as cold runs, secrets never in a config when the pool runs
// dry, the sweep of a killed agent's pool. The hardening (and close) runs on warm containers in
// sandbox-hardening.int.test.ts.
const fx = sandboxFixture('pool', { killGraceMs: 300, poolSize: 2 });
const { make } = fx;
const ready = (ex: DockerSandboxExecutor, n = 2) => fx.ready(ex, n);
const logger = captureLogger();

await describeWith(['docker'], 'docker sandbox warm pool (real engine)', () => {
  let ex: DockerSandboxExecutor;
  beforeAll(async () => {
    ex = await make();
  });
  afterAll(() => fx.closeAll());

  it('pre-creates a bounded pool, runs one task per container, removes it and refills', async () => {
    const used = new Set<string>();
    for (let i = 0; i < 3; i++) {
      // Held by the pool (not only listed by the engine): the task must take one of these.
      const idle = new Set((await ready(ex)).map((c) => c.Id.slice(0, 12)));
      // HOSTNAME is the short container id: it tells which container ran the task.
      const r = await ex.execute(task(shell('hostname')), context(logger));
      expect(r.status).toBe('succeeded');
      const host = out(r).stdout.trim();
      expect(used.has(host)).toBe(false);
      used.add(host);
      expect(idle.has(host)).toBe(true);
      // Never more than poolSize warm containers, whatever the refills.
      expect((await idleOf(ex.scope)).length).toBeLessThanOrEqual(2);
    }
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

  it('keeps task env out of the config of a warm container and of one created when the pool ran dry', async () => {
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

  it('leaves the pool of a killed agent to the next start of its scope, which sweeps nothing else', async () => {
    const root = await fx.root();
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
    try {
      // A cold one, so that what is left afterwards is only what the start swept.
      await make({ workdirRoot: root, scope, poolSize: 0 });
      expect(await containersOf(scope)).toEqual([]);
      expect((await containersOf(other)).map((c) => c.Id)).toEqual([bystander.id]);
    } finally {
      await bystander.remove({ force: true }).catch(() => {});
    }
  });
});
