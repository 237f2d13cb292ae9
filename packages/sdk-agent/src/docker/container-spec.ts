import type { ContainerCreateOptions } from 'dockerode';
import { LAUNCHER, SCRIPT_DIR } from './launcher.js';
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
  /** Set by agents before the stdin launcher (script files on the host); still read by the sweeper. */
  scriptDir: 'dev.vespid.sandbox.script-dir',
  /** On a pre-created (warm) container: its pool key. Such a container carries no per-task label. */
  pool: 'dev.vespid.sandbox.pool',
} as const;

// Paths we mount ourselves; an image VOLUME on one of them is already covered.
const RESERVED = new Set(['/work', '/tmp', SCRIPT_DIR, '/dev/mqueue']);

// The script lives in memory: at most 256 Ki characters of 4 UTF-8 bytes.
const SCRIPT_TMPFS_MB = 2;

/** What a container is for: one task (created for it), or the pool (pre-created, before any task is known). */
export type ContainerPurpose =
  | {
      readonly kind: 'task';
      readonly requestId: string;
      /** When the sweeper may treat the container as an orphan (epoch ms). */
      readonly deadline: number;
      /** The per-run host directory: mounted as `/work` when it is unbounded (`workdirMaxMb` 0). */
      readonly workdir: string;
    }
  | {
      readonly kind: 'pool';
      /** Identifies image + network (+ image volumes): a warm container only serves tasks of its key. */
      readonly poolKey: string;
    };

/** Everything a container depends on. Never the task's env or script: those arrive over stdin. */
export interface ContainerSpec {
  readonly image: string;
  readonly user: string;
  readonly network: 'none' | 'bridge';
  readonly scope: string;
  readonly instanceId: string;
  /** `VOLUME` paths of the image: each is covered by a read-only tmpfs so it stays unwritable. */
  readonly imageVolumes?: readonly string[];
  readonly purpose: ContainerPurpose;
}

/**
 * The hardened create options of every sandbox container, warm or created for a task. The command is
 * the fixed launcher that reads the task's env and script from stdin (see `launcher.ts`), so there is
 * no task `Env` (the image's only) and stdin is opened once for the attach. A container for a task
 * carries the task's labels for the sweeper (request id, deadline, host workdir); a warm one only its
 * pool key, and it needs a bounded `/work` (a tmpfs): a per-run host directory cannot be mounted after
 * create.
 */
export function containerCreateOptions(opts: ResolvedDockerSandboxOptions, spec: ContainerSpec): ContainerCreateOptions {
  const [uid, gid] = spec.user.split(':');
  const mib = 1024 * 1024;
  // A bounded /work is a size-limited tmpfs: it is the one limit Docker enforces on every engine and
  // filesystem (no xfs project quota, no root needed on the agent to loop-mount an image, works on
  // cgroup v1 and v2), and the script sees ENOSPC at the limit. tmpfs pages are charged to the
  // container's memory, so the limit grows by the same amount and processes keep `memoryMb`.
  const bounded = opts.workdirMaxMb > 0;
  const { purpose } = spec;
  if (purpose.kind === 'pool' && !bounded) throw new TypeError('a pooled sandbox container needs a bounded /work (workdirMaxMb > 0)');
  const memory = (opts.memoryMb + (bounded ? opts.workdirMaxMb : 0)) * mib;
  return {
    Image: spec.image,
    Cmd: ['sh', '-c', LAUNCHER],
    Entrypoint: [], // the image's entrypoint must not wrap (or replace) our command
    User: spec.user,
    WorkingDir: '/work',
    Tty: false,
    OpenStdin: true,
    StdinOnce: true, // the engine closes the container's stdin when our attach half-closes it
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: spec.network === 'none',
    Labels: {
      [LABELS.sandbox]: '1',
      [LABELS.scope]: spec.scope,
      [LABELS.instance]: spec.instanceId,
      ...(purpose.kind === 'pool'
        ? { [LABELS.pool]: purpose.poolKey }
        : {
            [LABELS.deadline]: String(purpose.deadline),
            [LABELS.requestId]: purpose.requestId,
            [LABELS.workdir]: purpose.workdir,
          }),
    },
    HostConfig: {
      ReadonlyRootfs: true,
      Privileged: false,
      CapDrop: ['ALL'],
      // Default seccomp and AppArmor profiles stay on: only no-new-privileges is added.
      SecurityOpt: ['no-new-privileges:true'],
      // An init as PID 1 forwards SIGTERM; a shell as PID 1 ignores it.
      Init: true,
      NetworkMode: spec.network,
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
        // The launcher writes the script here, then makes it read-only (the shell reads it, never execs it).
        [SCRIPT_DIR]: `rw,noexec,nosuid,nodev,size=${SCRIPT_TMPFS_MB}m,mode=0700,uid=${uid},gid=${gid}`,
        // An image VOLUME would become a writable anonymous volume; a read-only tmpfs takes its place.
        ...Object.fromEntries(
          (spec.imageVolumes ?? []).filter((v) => !RESERVED.has(v.replace(/\/+$/, ''))).map((v) => [v, 'ro,noexec,nosuid,nodev,size=4k']),
        ),
      },
      // Unbounded (workdirMaxMb 0): the per-run host directory itself, kept afterwards with keepWorkdirs.
      Mounts: purpose.kind === 'task' && !bounded ? [{ Type: 'bind', Source: purpose.workdir, Target: '/work', ReadOnly: false }] : [],
      // Output reaches us through attach; the log driver would keep a copy (maybe with secrets) on disk.
      LogConfig: { Type: 'none', Config: {} },
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      // No AutoRemove: State.OOMKilled must be read before the container is removed.
      AutoRemove: false,
    },
  };
}
