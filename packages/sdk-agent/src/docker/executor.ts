import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentExecutePayloadSchema, BuiltinKinds, VespidError, formatZodIssues } from '@vespid/protocol';
import type { Executor, ExecutorContext, ExecutorResult, ExecutorTask } from '../executor.js';
import { type ContainerSpec, containerCreateOptions } from './container-spec.js';
import { ImageFactsCache, createContainer, ensureImage, removeContainer } from './engine.js';
import { DockerSandboxError } from './errors.js';
import { launcherPreamble } from './launcher.js';
import { type DockerSandboxOptions, resolveDockerSandboxOptions } from './options.js';
import { abortCode, errorToResult, outcomeToResult } from './outcome.js';
import { buildSandboxEnv, resolveImage, resolveNetwork, resolveTimeoutMs } from './policy.js';
import { type RunOutcome, runContainer } from './run-container.js';
import { formatSandboxUser, resolveSandboxUser } from './sandbox-user.js';
import { sweepOrphans } from './sweeper.js';
import { WarmPool } from './warm-pool.js';
import { type DirOwner, locateRun, prepareWorkdir, removeWorkdir, workdirPath } from './workdir.js';
import { loadDockerode } from './load-dockerode.js';
import type Dockerode from 'dockerode';

/**
 * Lifecycle state of a {@link DockerSandboxExecutor}.
 *
 * @example
 * ```ts
 * if (sandbox.state === 'running') await sandbox.sweep();
 * ```
 */
export type DockerSandboxState = 'idle' | 'running' | 'closing' | 'closed';

/**
 * The `agent.execute` executor returned by {@link dockerSandboxExecutor}.
 *
 * @example
 * ```ts
 * await using sandbox = dockerSandboxExecutor({ image: 'node:24-alpine' });
 * await sandbox.start();
 * ```
 */
export interface DockerSandboxExecutor extends Executor {
  readonly kind: 'agent.execute';
  readonly state: DockerSandboxState;
  readonly closed: boolean;
  /** The label scope whose orphans this executor sweeps. */
  readonly scope: string;
  /** Sweeps orphans of a crashed agent (every container of the scope not from this instance) and starts the periodic sweep. Idempotent. */
  start(): Promise<void>;
  /** Sweeps orphaned containers now (also done on `start()` and every `sweepIntervalMs`). Returns how many were removed. */
  sweep(): Promise<number>;
  /** Stops the sweeper, aborts running tasks (`AGENT_SHUTDOWN`) and waits up to `timeoutMs` for their cleanup. Idempotent. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// Where agents before the stdin launcher wrote script files, beside the run directories (org ids
// cannot start with a dot, so no clash). Nothing writes there now; start() removes what is left.
const LEGACY_SCRIPTS_DIR = '.vespid-scripts';

/**
 * The Docker sandbox executor for `agent.execute`: runs the node's shell task in a hardened container
 * (read-only rootfs, `/work` = a size-limited tmpfs (or, unbounded, the per-run host directory), `/tmp` tmpfs, all capabilities dropped,
 * no-new-privileges, non-root, memory without swap, CPU, pids and nofile limits, no network unless
 * allowed, an init process) through the Engine API, with output capped while it streams. The task's env
 * and script reach the container over its stdin (a fixed launcher command reads them), never its
 * config: env values are not in `docker inspect` nor in the engine's files, and no script touches the host disk.
 * Results carry `{exitCode, stdout, stderr, stdoutTruncated, stderrTruncated, timedOut, oomKilled, durationMs}`;
 * failures use `DOCKER_EXIT_CODE:<n>`, `NODE_EXECUTION_TIMEOUT`, `DOCKER_OOM_KILLED`,
 * `DOCKER_IMAGE_NOT_FOUND`, `DOCKER_FAILED` (retryable), `ENV_NOT_ALLOWED`, `NETWORK_NOT_ALLOWED`, `IMAGE_NOT_ALLOWED`,
 * `DOCKER_WORKDIR_FULL`, `WORKDIR_ESCAPE`, `TASK_CANCELLED`. A present image is inspected once per 10 s, not once per run;
 * a missing one is never cached, so it fails with `DOCKER_IMAGE_NOT_FOUND` at once.
 *
 * @example
 * ```ts
 * import { createAgent } from '@vespid/sdk-agent';
 * import { dockerSandboxExecutor, dockerSandboxOptionsFromEnv } from '@vespid/sdk-agent/docker';
 *
 * const sandbox = dockerSandboxExecutor({ ...dockerSandboxOptionsFromEnv(process.env), logger });
 * const agent = createAgent({ ..., executors: [sandbox] });
 * ```
 */
export function dockerSandboxExecutor(options: DockerSandboxOptions = {}): DockerSandboxExecutor {
  const o = resolveDockerSandboxOptions(options);
  // Created on first use: dockerode is an optional peer, imported only when the engine is needed.
  let dockerReady: Promise<Dockerode> | undefined;
  const engine = () =>
    (dockerReady ??= o.docker
      ? Promise.resolve(o.docker)
      : loadDockerode().then((Docker) => new Docker(o.socketPath ? { socketPath: o.socketPath } : undefined)));
  const processEnv = o.env ?? process.env;
  const scope = o.scope ?? `wd-${createHash('sha256').update(o.workdirRoot).digest('hex').slice(0, 16)}`;
  const instanceId = randomUUID();
  const resolvedUser = resolveSandboxUser(o.user, { uid: process.getuid?.(), gid: process.getgid?.() });
  const user = formatSandboxUser(resolvedUser.user);
  const owner: DirOwner | undefined = resolvedUser.chown ? resolvedUser.user : undefined;
  const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  const images = new ImageFactsCache();
  let state: DockerSandboxState = 'idle';
  let sweepTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  // Warm containers need a bounded /work (a tmpfs): a per-run host directory cannot be mounted after create.
  const warm = o.poolSize > 0 && o.workdirMaxMb > 0;
  // Pool key → what its containers are created from (everything but the task).
  const poolSpecs = new Map<string, Omit<ContainerSpec, 'purpose'>>();
  // Warm containers running a task → the task's deadline: the per-task labels they cannot carry.
  const leases = new Map<string, { requestId: string; deadline: number }>();
  const pool = new WarmPool(o.poolSize, {
    logger: o.logger,
    create: async (key) => {
      const spec = poolSpecs.get(key);
      if (!spec) throw new Error('unknown warm pool key');
      return createContainer(await engine(), containerCreateOptions(o, { ...spec, purpose: { kind: 'pool', poolKey: key } }));
    },
    remove: removeContainer,
  });
  const poolKeyOf = (image: string, network: 'none' | 'bridge', volumes: readonly string[]) => {
    const key = createHash('sha256')
      .update(JSON.stringify([image, network, [...volumes].sort()]))
      .digest('hex')
      .slice(0, 16);
    if (!poolSpecs.has(key)) poolSpecs.set(key, { image, user, network, scope, instanceId, imageVolumes: volumes });
    return key;
  };
  // Spared by the periodic sweep: idle in the pool, or running a task that is not overdue.
  const holdsPooled = (id: string) => {
    if (pool.isIdle(id)) return true;
    const lease = leases.get(id);
    return lease !== undefined && Date.now() <= lease.deadline + o.sweepGraceMs;
  };

  const sweep = async (all: boolean) =>
    sweepOrphans({
      docker: await engine(),
      scope,
      instanceId,
      all,
      graceMs: o.sweepGraceMs,
      workdirRoot: o.workdirRoot,
      keepWorkdirs: o.keepWorkdirs,
      logger: o.logger,
      holdsPooled,
    });

  // Fills the pool of the default image and network at start, so the first task is warm too.
  async function prewarm(): Promise<void> {
    const network = o.networkDefault;
    const facts = await ensureImage(await engine(), o.image, false, AbortSignal.timeout(30_000), images);
    pool.fill(poolKeyOf(o.image, network, facts.volumes));
  }

  async function run(task: ExecutorTask, ctx: ExecutorContext, signal: AbortSignal): Promise<ExecutorResult> {
    const parsed = AgentExecutePayloadSchema.safeParse(task.payload);
    if (!parsed.success) {
      const fields = formatZodIssues(parsed.error, { show: 'paths', root: '(payload)', max: 20 });
      throw new DockerSandboxError('BAD_REQUEST', `invalid agent.execute payload (fields: ${fields})`);
    }
    const { task: shellTask, sandbox, run: runRef } = parsed.data;
    const image = resolveImage(o, sandbox);
    const network = resolveNetwork(o, sandbox);
    const env = buildSandboxEnv(o, shellTask, sandbox, processEnv);
    const timeoutMs = Math.max(1, Math.min(resolveTimeoutMs(o, sandbox), ctx.deadline - Date.now()));
    const workdir = workdirPath(o.workdirRoot, locateRun(task.organizationId, task.requestId, runRef));
    const logger = ctx.logger;
    logger.info({ image, network, timeoutMs, envKeys: env.passedKeys.length }, 'starting docker sandbox');
    if (env.missingKeys.length > 0) logger.warn({ missing: env.missingKeys.length }, 'allowed env keys are not set on the agent');

    const docker = await engine();
    // Warm or cold, the task travels the same way: env and script over stdin to the fixed launcher,
    // never into the container's config, labels or the host disk.
    const launch = (container: Dockerode.Container, path: 'pooled' | 'cold', remove?: (c: Dockerode.Container) => Promise<void>) =>
      runContainer({
        container,
        stdin: launcherPreamble({ env: env.entries, script: shellTask.script, shell: shellTask.shell ?? 'sh' }),
        ...(remove ? { remove } : {}),
        // Image checks, pool and workdir setup used part of the runtime's deadline.
        timeoutMs: Math.max(1, Math.min(timeoutMs, ctx.deadline - Date.now())),
        killGraceMs: o.killGraceMs,
        outputMaxChars: o.outputMaxChars,
        signal,
        logger,
      }).then((outcome) => {
        logFinished(logger, outcome, path);
        return outcomeToResult(outcome, timeoutMs, o);
      });
    try {
      const imageFacts = await ensureImage(docker, image, o.allowPull, signal, images);
      const base = { image, user, network, scope, instanceId, imageVolumes: imageFacts.volumes };
      const warmContainer = warm ? pool.take(poolKeyOf(image, network, imageFacts.volumes)) : undefined;
      if (warmContainer) {
        // Removed by the pool off the task's critical path; spared by the sweeper while leased.
        leases.set(warmContainer.id, { requestId: task.requestId, deadline: Date.now() + timeoutMs + o.killGraceMs });
        try {
          return await launch(warmContainer, 'pooled', (c) => pool.retire(c));
        } finally {
          leases.delete(warmContainer.id);
        }
      }
      // No pool, or it is empty (a burst, or just started): a container created for this task, whose
      // labels tell the sweeper its request and deadline.
      await prepareWorkdir(o.workdirRoot, workdir, owner);
      try {
        if (signal.aborted) throw signal.reason;
        const deadline = Date.now() + timeoutMs + o.killGraceMs;
        const options = containerCreateOptions(o, { ...base, purpose: { kind: 'task', requestId: task.requestId, deadline, workdir } });
        return await launch(await createContainer(docker, options), 'cold');
      } finally {
        if (!o.keepWorkdirs)
          await removeWorkdir(o.workdirRoot, workdir).catch((err) => logger.warn({ err: String(err) }, 'workdir cleanup failed'));
      }
    } catch (err) {
      // The image was removed while its facts were cached: the next run inspects (and reports) it afresh.
      if (err instanceof DockerSandboxError && err.code === 'DOCKER_IMAGE_NOT_FOUND') images.forget(image);
      throw err;
    }
  }

  const executor: DockerSandboxExecutor = {
    kind: BuiltinKinds.agentExecute,
    scope,
    get state() {
      return state;
    },
    get closed() {
      return state === 'closed';
    },
    async start() {
      if (state !== 'idle') return;
      state = 'running';
      try {
        // Script files an agent before the stdin launcher left behind when it crashed.
        await rm(join(o.workdirRoot, LEGACY_SCRIPTS_DIR), { recursive: true, force: true });
        const removed = await sweep(true);
        o.logger.info({ scope, removed, poolSize: warm ? o.poolSize : 0 }, 'docker sandbox ready');
        if (warm) await prewarm().catch((err) => o.logger.warn({ scope, err: String(err) }, 'could not pre-create warm containers'));
      } catch (err) {
        // Not installed is not transient: say so at start, not at the first task.
        if (VespidError.is(err) && err.code === 'OPTIONAL_DEPENDENCY_MISSING') {
          state = 'closed';
          throw err;
        }
        // An engine that is down now may be up by the first task; each task reports DOCKER_FAILED meanwhile.
        o.logger.warn({ scope, err: String(err) }, 'initial orphan sweep failed');
      }
      if (o.sweepIntervalMs > 0 && state === 'running') {
        sweepTimer = setInterval(() => {
          sweep(false).catch((err) => o.logger.warn({ scope, err: String(err) }, 'orphan sweep failed'));
        }, o.sweepIntervalMs);
        sweepTimer.unref();
      }
    },
    sweep: () => sweep(false),
    async execute(task, ctx) {
      if (state === 'closing' || state === 'closed') {
        return errorToResult(new DockerSandboxError('AGENT_SHUTDOWN', 'the docker sandbox is closing'));
      }
      const controller = new AbortController();
      const onAbort = () => controller.abort(ctx.signal.reason);
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      const key = randomUUID();
      const done = run(task, ctx, controller.signal).catch((err: unknown) => {
        // Once aborted, whatever broke (a cut pull, a killed attach) is a consequence of the abort.
        if (controller.signal.aborted) {
          const code = abortCode(controller.signal.reason);
          return errorToResult(new VespidError(code, `the sandbox run was stopped (${code})`));
        }
        if (!VespidError.is(err)) ctx.logger.error({ err: String(err) }, 'docker sandbox failed unexpectedly');
        return errorToResult(err);
      });
      running.set(key, { controller, done });
      try {
        return await done;
      } finally {
        running.delete(key);
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= (async () => {
        state = 'closing';
        if (sweepTimer) clearInterval(sweepTimer);
        const reason = new DockerSandboxError('AGENT_SHUTDOWN', 'the agent is shutting down');
        const pending = [...running.values()];
        for (const r of pending) r.controller.abort(reason);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(pending.map((r) => r.done)),
          new Promise<void>((r) => {
            timer = setTimeout(r, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        // Idle warm containers, and the removals of used ones still in flight.
        await pool.close();
        state = 'closed';
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return executor.close();
    },
  };
  return executor;
}

function logFinished(logger: ExecutorContext['logger'], outcome: RunOutcome, path: 'pooled' | 'cold'): void {
  logger.info(
    {
      exitCode: outcome.exitCode,
      durationMs: outcome.durationMs,
      timedOut: outcome.timedOut,
      oomKilled: outcome.oomKilled,
      stdoutTruncated: outcome.stdoutTruncated,
      stderrTruncated: outcome.stderrTruncated,
      path,
    },
    'docker sandbox finished',
  );
}
