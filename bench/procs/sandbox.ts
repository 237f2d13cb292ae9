/**
 * Scenario e: `agent.execute` of `true` through `dockerSandboxExecutor`, against the raw Engine API
 * (create → start → wait → remove) with the very same hardened create options, alternating one run of
 * each so engine drift hits both alike. The executor runs twice: cold (`poolSize: 0`, a container created
 * per task) and warm (`poolSize: 2`, pre-created containers; used ones removed in the background).
 */
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noopLogger } from '@vespid/protocol';
import { dockerSandboxExecutor, resolveDockerSandboxOptions } from '@vespid/sdk-agent/docker';
// Internal on purpose: the baseline must use exactly the executor's hardening, not a copy of it.
import { containerCreateOptions } from '../../packages/sdk-agent/src/docker/container-spec.js';
import { Docker } from '../lib/deps.js';
import { num, nowMs, serve, str } from '../lib/rpc.js';

const isRoot = process.getuid?.() === 0;
const user = isRoot ? '65534:65534' : `${process.getuid?.()}:${process.getgid?.()}`;

async function rawSetup(root: string) {
  const workdir = join(root, 'raw-work');
  await mkdir(workdir, { recursive: true });
  if (isRoot) await chown(workdir, 65534, 65534);
  return { workdir };
}

serve({
  async run(args) {
    const image = str(args, 'image', 'vespid/sandbox-busybox:test');
    const n = num(args, 'n', 10);
    const root = await mkdtemp(join(tmpdir(), 'vespid-bench-sbx-'));
    const docker = new Docker();
    const executor = dockerSandboxExecutor({
      image,
      workdirRoot: root,
      sweepIntervalMs: 0,
      poolSize: 2,
      scope: `bench-warm-${process.pid}`,
    });
    const coldExecutor = dockerSandboxExecutor({ image, workdirRoot: root, sweepIntervalMs: 0, scope: `bench-cold-${process.pid}` });
    const opts = resolveDockerSandboxOptions({ image, workdirRoot: root, sweepIntervalMs: 0 });
    const dirs = await rawSetup(root);
    await executor.start?.();
    await coldExecutor.start?.();
    const viaExecutor: number[] = [];
    const viaCold: number[] = [];
    const raw: number[] = [];
    const failures: string[] = [];
    const runExecutor = async (i: number, cold = false) => {
      const t = nowMs();
      const res = await (cold ? coldExecutor : executor).execute(
        {
          requestId: `sbx${process.pid}r${i + 1}:n:0`,
          organizationId: 'bench',
          kind: 'agent.execute',
          payload: { task: { type: 'shell', script: 'true' } },
          timeoutMs: 30_000,
        },
        { signal: AbortSignal.timeout(30_000), logger: noopLogger, deadline: Date.now() + 30_000 },
      );
      if (res.status !== 'succeeded') failures.push(`executor${cold ? ' (cold)' : ''}: ${res.error.code}`);
      else (cold ? viaCold : viaExecutor).push(nowMs() - t);
    };
    const rawPlus: number[] = [];
    // `extra`: also the Engine calls the executor needs beyond create/start/wait/remove — image
    // inspect (DOCKER_IMAGE_NOT_FOUND), attach (output capture) and inspect (exit code, OOMKilled).
    const runRaw = async (i: number, extra = false) => {
      const t = nowMs();
      if (extra) await docker.getImage(image).inspect();
      const hardened = containerCreateOptions(opts, {
        image,
        user,
        network: 'none',
        scope: `bench${process.pid}`,
        instanceId: `bench${process.pid}`,
        purpose: { kind: 'task', requestId: `raw-${process.pid}-${i}`, deadline: Date.now() + 30_000, workdir: dirs.workdir },
      });
      // The executor's hardening, but the command run directly: the raw baseline has no stdin launcher.
      const spec = { ...hardened, Cmd: ['sh', '-c', 'true'], OpenStdin: false, StdinOnce: false, AttachStdin: false };
      const container = await docker.createContainer(spec);
      try {
        const stream = extra
          ? ((await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream)
          : undefined;
        const ended = stream
          ? new Promise<void>((resolve) =>
              stream
                .on('end', resolve)
                .on('close', resolve)
                .on('error', () => resolve())
                .resume(),
            )
          : undefined;
        const exited = container.wait({ condition: 'next-exit' });
        await container.start();
        const { StatusCode } = (await exited) as { StatusCode: number };
        if (ended) await ended;
        if (extra) await container.inspect();
        if (StatusCode !== 0) failures.push(`raw: exit ${StatusCode}`);
      } finally {
        await container.remove({ force: true });
      }
      (extra ? rawPlus : raw).push(nowMs() - t);
    };
    try {
      // One untimed run of each warms the image cache and the engine.
      await runRaw(-1);
      await runRaw(-1, true);
      await runExecutor(-1);
      await runExecutor(-1, true);
      viaExecutor.length = 0;
      viaCold.length = 0;
      raw.length = 0;
      rawPlus.length = 0;
      // Rotating order so no variant always runs right after another.
      const variants = [() => runRaw(0), () => runRaw(0, true), () => runExecutor(0), () => runExecutor(0, true)];
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < variants.length; k++) await variants[(i + k) % variants.length]?.();
      }
    } finally {
      await executor.close?.();
      await coldExecutor.close?.();
      await rm(root, { recursive: true, force: true });
    }
    return { executor: viaExecutor, cold: viaCold, raw, rawPlus, failures };
  },
  stop() {
    setImmediate(() => process.exit(0));
    return true;
  },
});
