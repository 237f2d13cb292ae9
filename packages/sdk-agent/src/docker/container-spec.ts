import type { ContainerCreateOptions } from 'dockerode';
import { LAUNCHER, POOLED_SCRIPT_DIR } from './launcher.js';
import type { ResolvedDockerSandboxOptions } from './options.js';

/**
 * Label keys that mark a container as a Vespid sandbox; the sweeper relies on them.
 *
 * @example
 * ```ts
 * const ours = await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.sandbox}=1`] } });
 * ```
 */
export const LABELS = {
  sandbox: 'dev.vespid.sandbox',
  scope: 'dev.vespid.sandbox.scope',
  instance: 'dev.vespid.sandbox.instance',
  deadline: 'dev.vespid.sandbox.deadline',
  requestId: 'dev.vespid.sandbox.request-id',
  workdir: 'dev.vespid.sandbox.workdir',
  scriptDir: 'dev.vespid.sandbox.script-dir',
  /** On a pre-created (warm) container: its pool key. Such a container carries no per-task label. */
  pool: 'dev.vespid.sandbox.pool',
} as const;

// Paths we mount ourselves; an image VOLUME on one of them is already covered.
const RESERVED = new Set(['/work', '/tmp', '/vespid', '/dev/mqueue']);

/** Where the read-only task script is mounted inside the container. */
export const SCRIPT_MOUNT = '/vespid';

/** Everything that varies per run. */
export interface RunSpec {
  readonly image: string;
  readonly shell: string;
  readonly user: string;
  readonly network: 'none' | 'bridge';
  readonly workdir: string;
  readonly scriptDir: string;
  /** Contains secrets: never log. */
  readonly env: string[];
  readonly requestId: string;
  readonly scope: string;
  readonly instanceId: string;
  readonly deadline: number;
  /** `VOLUME` paths of the image: each is covered by a read-only tmpfs so it stays unwritable. */
  readonly imageVolumes?: readonly string[];
}

/**
 * The hardened create options. The result contains env values: it must never be logged or put in an
 * error. The script is a read-only file run as `<shell> /vespid/task.sh` (not `sh -c`, whose argument
 * is capped at 128 KiB and visible in `inspect`), so stdin stays empty and `$0` is a real path.
 */
export function containerCreateOptions(opts: ResolvedDockerSandboxOptions, run: RunSpec): ContainerCreateOptions {
  const [uid, gid] = run.user.split(':');
  const mib = 1024 * 1024;
  // A bounded /work is a size-limited tmpfs: it is the one limit Docker enforces on every engine and
  // filesystem (no xfs project quota, no root needed on the agent to loop-mount an image, works on
  // cgroup v1 and v2), and the script sees ENOSPC at the limit. tmpfs pages are charged to the
  // container's memory, so the limit grows by the same amount and processes keep `memoryMb`.
  const bounded = opts.workdirMaxMb > 0;
  const memory = (opts.memoryMb + (bounded ? opts.workdirMaxMb : 0)) * mib;
  return {
    Image: run.image,
    Cmd: [run.shell, `${SCRIPT_MOUNT}/task.sh`],
    Entrypoint: [], // the image's entrypoint must not wrap (or replace) our command
    User: run.user,
    WorkingDir: '/work',
    Env: run.env,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: run.network === 'none',
    Labels: {
      [LABELS.sandbox]: '1',
      [LABELS.scope]: run.scope,
      [LABELS.instance]: run.instanceId,
      [LABELS.deadline]: String(run.deadline),
      [LABELS.requestId]: run.requestId,
      [LABELS.workdir]: run.workdir,
      [LABELS.scriptDir]: run.scriptDir,
    },
    HostConfig: {
      ReadonlyRootfs: true,
      Privileged: false,
      CapDrop: ['ALL'],
      // Default seccomp and AppArmor profiles stay on: only no-new-privileges is added.
      SecurityOpt: ['no-new-privileges:true'],
      // An init as PID 1 forwards SIGTERM; a shell as PID 1 ignores it.
      Init: true,
      NetworkMode: run.network,
      // The runbook promises that only /work and /tmp are writable: no /dev/shm (IPC 'none'), and a
      // read-only /dev/mqueue over Docker's default one.
      IpcMode: 'none',
      PidMode: '',
      UTSMode: '',
      Memory: memory,
      MemorySwap: memory, // equal to Memory: no swap
      NanoCpus: Math.round(opts.cpus * 1e9),
      PidsLimit: opts.pids,
      // If the host runs out of memory, the kernel picks sandbox processes before the agent.
      OomScoreAdj: 500,
      Ulimits: [{ Name: 'nofile', Soft: opts.nofile, Hard: opts.nofile }],
      // Non-root users cannot write a tmpfs without uid/gid; noexec keeps /tmp for data (/work can hold tools).
      Tmpfs: {
        '/tmp': `rw,noexec,nosuid,nodev,size=${opts.tmpSizeMb}m,mode=1777,uid=${uid},gid=${gid}`,
        ...(bounded ? { '/work': `rw,exec,nosuid,nodev,size=${opts.workdirMaxMb}m,mode=0755,uid=${uid},gid=${gid}` } : {}),
        '/dev/mqueue': 'ro,noexec,nosuid,nodev,size=4k',
        // An image VOLUME would become a writable anonymous volume; a read-only tmpfs takes its place.
        ...Object.fromEntries(
          (run.imageVolumes ?? []).filter((v) => !RESERVED.has(v.replace(/\/+$/, ''))).map((v) => [v, 'ro,noexec,nosuid,nodev,size=4k']),
        ),
      },
      Mounts: [
        // Unbounded (workdirMaxMb 0): the per-run host directory itself, kept afterwards with keepWorkdirs.
        ...(bounded ? [] : [{ Type: 'bind' as const, Source: run.workdir, Target: '/work', ReadOnly: false }]),
        { Type: 'bind', Source: run.scriptDir, Target: SCRIPT_MOUNT, ReadOnly: true },
      ],
      // Output reaches us through attach; the log driver would keep a copy (maybe with secrets) on disk.
      LogConfig: { Type: 'none', Config: {} },
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      // No AutoRemove: State.OOMKilled must be read before the container is removed.
      AutoRemove: false,
    },
  };
}

/** What a warm container is created with: everything that does not depend on the task. */
export interface PooledSpec {
  readonly image: string;
  readonly user: string;
  readonly network: 'none' | 'bridge';
  readonly scope: string;
  readonly instanceId: string;
  /** Identifies image + network (+ image volumes): a container only serves tasks of its key. */
  readonly poolKey: string;
  readonly imageVolumes?: readonly string[];
}

// The script of a pooled container lives in memory: at most 256 Ki characters of 4 UTF-8 bytes.
const POOLED_SCRIPT_TMPFS_MB = 2;

/**
 * The create options of a warm container: the same hardening as {@link containerCreateOptions} (it is
 * derived from it, so the two cannot drift), but no task in it: no `Env` (the image's only), no
 * per-task label, no host mount. Its command is the fixed launcher that reads the task's env and
 * script from stdin (see `launcher.ts`), so stdin is opened once for the attach. Needs a bounded
 * `/work` (a tmpfs): a per-run host directory cannot be mounted after create.
 */
export function pooledContainerCreateOptions(opts: ResolvedDockerSandboxOptions, spec: PooledSpec): ContainerCreateOptions {
  if (opts.workdirMaxMb <= 0) throw new TypeError('a pooled sandbox container needs a bounded /work (workdirMaxMb > 0)');
  const base = containerCreateOptions(opts, {
    image: spec.image,
    shell: 'sh',
    user: spec.user,
    network: spec.network,
    workdir: '/nonexistent',
    scriptDir: '/nonexistent',
    env: [],
    requestId: '',
    scope: spec.scope,
    instanceId: spec.instanceId,
    deadline: 0,
    ...(spec.imageVolumes ? { imageVolumes: spec.imageVolumes } : {}),
  });
  const [uid, gid] = spec.user.split(':');
  const { Env: _env, ...rest } = base;
  return {
    ...rest,
    Cmd: ['sh', '-c', LAUNCHER],
    OpenStdin: true,
    StdinOnce: true, // the engine closes the container's stdin when our attach half-closes it
    AttachStdin: true,
    Labels: {
      [LABELS.sandbox]: '1',
      [LABELS.scope]: spec.scope,
      [LABELS.instance]: spec.instanceId,
      [LABELS.pool]: spec.poolKey,
    },
    HostConfig: {
      ...base.HostConfig,
      Tmpfs: {
        ...base.HostConfig?.Tmpfs,
        [POOLED_SCRIPT_DIR]: `rw,noexec,nosuid,nodev,size=${POOLED_SCRIPT_TMPFS_MB}m,mode=0700,uid=${uid},gid=${gid}`,
      },
      Mounts: [],
    },
  };
}
