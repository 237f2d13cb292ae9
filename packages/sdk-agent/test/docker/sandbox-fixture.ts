/**
 * Executors against the real engine for the sandbox integration suites: each on its own temporary
 * workdir root and its own label scope (so cleanup and assertions never touch another run's
 * containers), closed and removed by `closeAll()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { uniquePrefix } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { type DockerSandboxExecutor, type DockerSandboxOptions, SANDBOX_LABELS, dockerSandboxExecutor } from '../../src/docker/index.js';
import type { SandboxOutput } from '../../src/docker/outcome.js';
import { BUSYBOX, captureLogger } from './test-helpers.js';

export const docker = new Dockerode();

/** The sandbox output of a result. */
export const out = (r: { output?: unknown }) => r.output as SandboxOutput;

/** Every container of a scope (this test's executors only). */
export const containersOf = (scope: string) =>
  docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.scope}=${scope}`] } });

/** Warm containers of a scope that are pre-created and never started (idle, or handed out a moment ago). */
export const idleOf = async (scope: string) =>
  (await containersOf(scope)).filter((c) => c.State === 'created' && c.Labels[SANDBOX_LABELS.pool] !== undefined);

/** Containers of a scope that ran (or run) a task: all but the idle warm ones. */
export const taskContainersOf = async (scope: string) =>
  (await containersOf(scope)).filter((c) => !(c.State === 'created' && c.Labels[SANDBOX_LABELS.pool] !== undefined));

type CapturedLogger = ReturnType<typeof captureLogger>;

/** Executor options in tests: a given logger is a capturing one, so `ready()` can read it. */
export type FixtureOptions = Omit<DockerSandboxOptions, 'logger'> & { logger?: CapturedLogger };

/** Makes started executors with shared defaults; `closeAll()` closes them and removes their roots. */
export function sandboxFixture(tag: string, defaults: Omit<DockerSandboxOptions, 'logger'> = {}) {
  const roots: string[] = [];
  const executors: DockerSandboxExecutor[] = [];
  const loggers = new Map<DockerSandboxExecutor, CapturedLogger>();

  /** A fresh temporary workdir root (removed by `closeAll()`). */
  async function root(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `vespid-${tag}-`));
    roots.push(dir);
    return dir;
  }

  /** A started executor; its logger is its own unless `over.logger` is given (see {@link loggerOf}). */
  async function make(over: FixtureOptions = {}): Promise<DockerSandboxExecutor> {
    const logger = over.logger ?? captureLogger();
    const ex = dockerSandboxExecutor({
      image: BUSYBOX,
      workdirRoot: await root(),
      scope: uniquePrefix(tag),
      sweepIntervalMs: 0,
      ...defaults,
      ...over,
      logger,
    });
    executors.push(ex);
    loggers.set(ex, logger);
    await ex.start();
    return ex;
  }

  /** The logger an executor of this fixture was made with. */
  const loggerOf = (ex: DockerSandboxExecutor) => loggers.get(ex)!;

  /**
   * Waits until `ex` holds `n` idle warm containers and resolves with them. The engine lists a
   * container a moment before the agent has its create answer, so the executor's own "ready" log
   * line is what says the pool holds it.
   */
  function ready(ex: DockerSandboxExecutor, n: number) {
    return waitFor(
      async () => {
        const logged = loggerOf(ex).lines.filter((l) => l.includes('"warm sandbox container ready"'));
        const idle = await idleOf(ex.scope);
        const held = idle.filter((c) => logged.some((l) => l.includes(`"containerId":"${c.Id.slice(0, 12)}"`)));
        return held.length === n && held;
      },
      { what: `${n} warm containers`, timeoutMs: 30_000, intervalMs: 50 },
    );
  }

  async function closeAll(): Promise<void> {
    for (const e of executors) await e.close();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  }

  return { roots, root, make, loggerOf, ready, closeAll };
}
