import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { type Logger, noopLogger, formatZodIssues } from '@vespid/protocol';
import type Dockerode from 'dockerode';
import { z } from 'zod';
import { DockerSandboxError } from './errors.js';
import { parseSandboxUser } from './sandbox-user.js';

const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid env name');

/**
 * The zod schema of {@link DockerSandboxOptions}; defaults are the runbook's Strict profile.
 *
 * @example
 * ```ts
 * const checked = DockerSandboxOptionsSchema.safeParse({ memoryMb: 512 });
 * ```
 */
export const DockerSandboxOptionsSchema = z.strictObject({
  /** Host directory under which per-run workdirs are created (`VESPID_AGENT_WORKDIR_ROOT`). @default `~/.vespid/workdir` */
  workdirRoot: z.string().min(1).default('~/.vespid/workdir'),
  /** Default image (`VESPID_AGENT_DOCKER_IMAGE`); a node may name another one from `imageAllowlist`. @default `node:24-alpine` */
  image: z.string().min(1).max(512).default('node:24-alpine'),
  /**
   * Images a node's `sandbox.docker.image` may name besides `image` (`VESPID_AGENT_DOCKER_IMAGE_ALLOWLIST`);
   * others fail with `IMAGE_NOT_ALLOWED` before any Engine call. Exact references (`docker.io/library/`
   * and an implicit `:latest` are normalised). @default [] (only `image`)
   */
  imageAllowlist: z.array(z.string().min(1).max(512)).max(256).default([]),
  /** Network used when the node does not ask (`VESPID_AGENT_DOCKER_NETWORK_DEFAULT`). @default `none` */
  networkDefault: z.enum(['none', 'bridge']).default('none'),
  /** Whether a node may opt in to `network: "bridge"` (`VESPID_AGENT_DOCKER_ALLOW_NETWORK`). @default false */
  allowNetwork: z.boolean().default(false),
  /** Upper bound and default of a script's run time (`VESPID_AGENT_DOCKER_TIMEOUT_MS`). @default 30000 */
  timeoutMs: z.number().int().min(1).max(86_400_000).default(30_000),
  /** Memory limit, swap disabled (`VESPID_AGENT_DOCKER_MEMORY_MB`). @default 256 */
  memoryMb: z.number().int().min(6).max(1_048_576).default(256),
  /** CPU quota (`VESPID_AGENT_DOCKER_CPUS`). @default 1 */
  cpus: z.number().positive().max(1024).default(1),
  /** Process limit inside the container (`VESPID_AGENT_DOCKER_PIDS`). @default 256 */
  pids: z.number().int().min(8).max(1_000_000).default(256),
  /** Cap of stdout and of stderr, in characters (`VESPID_AGENT_DOCKER_OUTPUT_MAX_CHARS`). @default 65536 */
  outputMaxChars: z
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024)
    .default(65_536),
  /** Operator allowlist of agent env keys a node may receive (`VESPID_AGENT_ENV_PASSTHROUGH_ALLOWLIST`). @default [] */
  envPassthroughAllowlist: z.array(envKey).max(256).default([]),
  /** Keep per-run workdirs after the run (`VESPID_AGENT_KEEP_WORKDIRS`). @default false */
  keepWorkdirs: z.boolean().default(false),
  /** Pull a missing image instead of failing with DOCKER_IMAGE_NOT_FOUND (`VESPID_AGENT_DOCKER_ALLOW_PULL`). @default false */
  allowPull: z.boolean().default(false),
  /**
   * Size of the writable `/work` (`VESPID_AGENT_DOCKER_WORKDIR_MAX_MB`); a script writing more gets
   * ENOSPC and the run fails with `DOCKER_WORKDIR_FULL`. `/work` is then a tmpfs of this size: its pages
   * are memory, so the container's memory limit is `memoryMb + workdirMaxMb` (processes keep their
   * `memoryMb`). `0` mounts the per-run host directory instead, unbounded (the disk-exhaustion risk the
   * limit exists for); `keepWorkdirs` needs it. @default 512 (0 when `keepWorkdirs` is set)
   */
  workdirMaxMb: z.number().int().min(0).max(1_048_576).optional(),
  /**
   * Warm containers kept per image and network (`VESPID_AGENT_DOCKER_POOL_SIZE`): created (never
   * started) ahead of tasks with the same hardening, so a task skips the container create. Each serves
   * one task and is removed after it, off the task's critical path; the pool refills in the background.
   * The task's env and script reach a warm container over its stdin, never its config (see the README).
   * Needs a bounded `/work` (`workdirMaxMb` > 0) and a `sh` in the image; otherwise tasks run cold.
   * `0` disables the pool. @default 0
   */
  poolSize: z.number().int().min(0).max(16).default(0),
  /** Size of the `/tmp` tmpfs; it counts against the memory limit. @default 64 */
  tmpSizeMb: z.number().int().min(1).max(65_536).default(64),
  /** `nofile` ulimit (soft = hard). @default 1024 */
  nofile: z.number().int().min(16).max(1_048_576).default(1024),
  /** Time between SIGTERM and SIGKILL on timeout or cancel. @default 2000 */
  killGraceMs: z.number().int().min(0).max(60_000).default(2_000),
  /** Period of the orphan sweep; 0 sweeps only on `start()`. @default 60000 */
  sweepIntervalMs: z.number().int().min(0).max(86_400_000).default(60_000),
  /** Extra age past a container's deadline before the periodic sweep removes it. @default 60000 */
  sweepGraceMs: z.number().int().min(0).max(86_400_000).default(60_000),
  /**
   * Numeric `uid:gid` the script runs as. Root is refused in every spelling (uid 0 or gid 0), and so are
   * names. Default: `65534:65534` when the agent runs as root (the workdir is chowned to it), otherwise
   * the agent's own uid:gid (gid 0 replaced by 65534).
   */
  user: z
    .string()
    .superRefine((u, ctx) => {
      try {
        parseSandboxUser(u);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  /**
   * Label value grouping the containers this agent sweeps. Agents sharing a Docker engine and a
   * workdir root share it. Default: derived from the resolved workdir root.
   */
  scope: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  /** Docker socket path; default: dockerode's (DOCKER_HOST or /var/run/docker.sock). */
  socketPath: z.string().min(1).optional(),
  /** A ready dockerode client (wins over `socketPath`). */
  docker: z.custom<Dockerode>((v) => typeof v === 'object' && v !== null).optional(),
  /** Where passthrough values are read from. @default process.env */
  env: z.custom<NodeJS.ProcessEnv>((v) => typeof v === 'object' && v !== null).optional(),
  /** Logger for lifecycle and sweep events (tasks log through the runtime's per-request logger). */
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).default(noopLogger),
});

/**
 * Options of {@link dockerSandboxExecutor}; every field is optional (see the TSDoc of each).
 *
 * @example
 * ```ts
 * const options: DockerSandboxOptions = { image: 'node:24-alpine', allowNetwork: true, envPassthroughAllowlist: ['OPENAI_API_KEY'] };
 * ```
 */
export type DockerSandboxOptions = z.input<typeof DockerSandboxOptionsSchema>;
/**
 * Options with defaults applied and the workdir root resolved to an absolute path.
 *
 * @example
 * ```ts
 * const resolved: ResolvedDockerSandboxOptions = resolveDockerSandboxOptions({ memoryMb: 512 }); // resolved.pids === 256
 * ```
 */
export type ResolvedDockerSandboxOptions = z.output<typeof DockerSandboxOptionsSchema> & { workdirRoot: string; workdirMaxMb: number };

/** Default of `workdirMaxMb`. */
export const DEFAULT_WORKDIR_MAX_MB = 512;

/**
 * Validates options and resolves defaults once. Throws `BAD_REQUEST` listing the invalid fields.
 *
 * @example
 * ```ts
 * const { timeoutMs, workdirRoot } = resolveDockerSandboxOptions(dockerSandboxOptionsFromEnv(process.env));
 * ```
 */
export function resolveDockerSandboxOptions(options: DockerSandboxOptions = {}): ResolvedDockerSandboxOptions {
  const parsed = DockerSandboxOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new DockerSandboxError('BAD_REQUEST', `invalid docker sandbox options: ${formatZodIssues(parsed.error, { max: 10 })}`);
  }
  const o = parsed.data;
  // A bounded /work is a tmpfs that disappears with the container, so there is nothing to keep.
  if (o.keepWorkdirs && o.workdirMaxMb !== undefined && o.workdirMaxMb > 0) {
    throw new DockerSandboxError(
      'BAD_REQUEST',
      'invalid docker sandbox options: keepWorkdirs needs workdirMaxMb 0 (VESPID_AGENT_DOCKER_WORKDIR_MAX_MB=0): a bounded /work lives in memory and is gone with the container',
    );
  }
  const workdirMaxMb = o.workdirMaxMb ?? (o.keepWorkdirs ? 0 : DEFAULT_WORKDIR_MAX_MB);
  return { ...o, workdirRoot: expandHome(o.workdirRoot), workdirMaxMb };
}

function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(p);
}

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off', '']);

function bool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (truthy.has(v)) return true;
  if (falsy.has(v)) return false;
  throw new DockerSandboxError('BAD_REQUEST', `${name} must be true or false`);
}

function num(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new DockerSandboxError('BAD_REQUEST', `${name} must be a number`);
  return n;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

function str(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

/**
 * Reads the runbook's agent variables into {@link DockerSandboxOptions} (unset variables keep their defaults):
 *
 * | variable | option | default |
 * |---|---|---|
 * | `VESPID_AGENT_WORKDIR_ROOT` | workdirRoot | `~/.vespid/workdir` |
 * | `VESPID_AGENT_DOCKER_IMAGE` | image | `node:24-alpine` |
 * | `VESPID_AGENT_DOCKER_IMAGE_ALLOWLIST` (comma-separated) | imageAllowlist | empty (only the image) |
 * | `VESPID_AGENT_DOCKER_NETWORK_DEFAULT` | networkDefault | `none` |
 * | `VESPID_AGENT_DOCKER_TIMEOUT_MS` | timeoutMs | 30000 |
 * | `VESPID_AGENT_DOCKER_MEMORY_MB` | memoryMb | 256 |
 * | `VESPID_AGENT_DOCKER_WORKDIR_MAX_MB` (0 = unbounded host directory) | workdirMaxMb | 512 |
 * | `VESPID_AGENT_DOCKER_CPUS` | cpus | 1 |
 * | `VESPID_AGENT_DOCKER_PIDS` | pids | 256 |
 * | `VESPID_AGENT_DOCKER_OUTPUT_MAX_CHARS` | outputMaxChars | 65536 |
 * | `VESPID_AGENT_ENV_PASSTHROUGH_ALLOWLIST` (comma-separated keys) | envPassthroughAllowlist | empty |
 * | `VESPID_AGENT_DOCKER_ALLOW_NETWORK` (true/false) | allowNetwork | false |
 * | `VESPID_AGENT_KEEP_WORKDIRS` (true/false) | keepWorkdirs | false |
 * | `VESPID_AGENT_DOCKER_ALLOW_PULL` (true/false) | allowPull | false |
 * | `VESPID_AGENT_DOCKER_POOL_SIZE` (0 = no warm containers) | poolSize | 0 |
 *
 * The `env` option (where passthrough values come from) is set to the same `env`.
 *
 * @example
 * ```ts
 * const executor = dockerSandboxExecutor({ ...dockerSandboxOptionsFromEnv(process.env), logger });
 * ```
 */
export function dockerSandboxOptionsFromEnv(env: NodeJS.ProcessEnv): DockerSandboxOptions {
  const o: DockerSandboxOptions = { env };
  const set = <K extends keyof DockerSandboxOptions>(key: K, value: DockerSandboxOptions[K] | undefined) => {
    if (value !== undefined) o[key] = value;
  };
  set('workdirRoot', str(env, 'VESPID_AGENT_WORKDIR_ROOT'));
  set('image', str(env, 'VESPID_AGENT_DOCKER_IMAGE'));
  const images = str(env, 'VESPID_AGENT_DOCKER_IMAGE_ALLOWLIST');
  if (images !== undefined) set('imageAllowlist', list(images));
  const net = str(env, 'VESPID_AGENT_DOCKER_NETWORK_DEFAULT');
  if (net !== undefined && net !== 'none' && net !== 'bridge') {
    throw new DockerSandboxError('BAD_REQUEST', 'VESPID_AGENT_DOCKER_NETWORK_DEFAULT must be none or bridge');
  }
  set('networkDefault', net as 'none' | 'bridge' | undefined);
  set('timeoutMs', num(env, 'VESPID_AGENT_DOCKER_TIMEOUT_MS'));
  set('memoryMb', num(env, 'VESPID_AGENT_DOCKER_MEMORY_MB'));
  set('workdirMaxMb', num(env, 'VESPID_AGENT_DOCKER_WORKDIR_MAX_MB'));
  set('cpus', num(env, 'VESPID_AGENT_DOCKER_CPUS'));
  set('pids', num(env, 'VESPID_AGENT_DOCKER_PIDS'));
  set('outputMaxChars', num(env, 'VESPID_AGENT_DOCKER_OUTPUT_MAX_CHARS'));
  const allow = str(env, 'VESPID_AGENT_ENV_PASSTHROUGH_ALLOWLIST');
  if (allow !== undefined) {
    set('envPassthroughAllowlist', list(allow));
  }
  set('allowNetwork', bool(env, 'VESPID_AGENT_DOCKER_ALLOW_NETWORK'));
  set('keepWorkdirs', bool(env, 'VESPID_AGENT_KEEP_WORKDIRS'));
  set('allowPull', bool(env, 'VESPID_AGENT_DOCKER_ALLOW_PULL'));
  set('poolSize', num(env, 'VESPID_AGENT_DOCKER_POOL_SIZE'));
  return o;
}

/**
 * Whether the host should register the Docker sandbox: `VESPID_AGENT_EXEC_BACKEND=docker`.
 *
 * @example
 * ```ts
 * const executors = isDockerBackendSelected(process.env) ? [dockerSandboxExecutor(dockerSandboxOptionsFromEnv(process.env))] : [];
 * ```
 */
export function isDockerBackendSelected(env: NodeJS.ProcessEnv): boolean {
  return env.VESPID_AGENT_EXEC_BACKEND?.trim().toLowerCase() === 'docker';
}
