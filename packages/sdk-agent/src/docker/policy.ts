import type { SandboxConfig, ShellTask } from '@vespid/protocol';
import { DockerSandboxError } from './errors.js';
import type { ResolvedDockerSandboxOptions } from './options.js';

/**
 * The network a run gets: the node's opt-in if the operator allows it, else the operator default.
 * Asking for `bridge` on an agent that does not allow network fails with `NETWORK_NOT_ALLOWED`.
 */
export function resolveNetwork(opts: ResolvedDockerSandboxOptions, sandbox: SandboxConfig | undefined): 'none' | 'bridge' {
  const wanted = sandbox?.network ?? opts.networkDefault;
  if (wanted === 'none') return 'none';
  // An operator default of bridge is itself an allowance.
  if (opts.allowNetwork || opts.networkDefault === 'bridge') return 'bridge';
  throw new DockerSandboxError('NETWORK_NOT_ALLOWED', 'the node asks for network "bridge" but this agent does not allow network access');
}

/** `node` → `node:latest`, `docker.io/library/node:24` → `node:24`: one spelling per reference. */
export function normalizeImageRef(ref: string): string {
  let r = ref.trim().toLowerCase();
  for (const prefix of ['docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/']) {
    if (r.startsWith(prefix)) {
      r = r.slice(prefix.length);
      break;
    }
  }
  const lastSegment = r.slice(r.lastIndexOf('/') + 1);
  if (!lastSegment.includes(':') && !r.includes('@')) r = `${r}:latest`;
  return r;
}

/**
 * The image a run uses: the operator's unless the node names another one, which must be the
 * operator's image or on `imageAllowlist` — otherwise `IMAGE_NOT_ALLOWED`, before any Engine call, so
 * a node cannot run (and read) whatever image happens to be on the customer's host.
 */
export function resolveImage(opts: ResolvedDockerSandboxOptions, sandbox: SandboxConfig | undefined): string {
  const wanted = sandbox?.docker?.image;
  if (wanted === undefined) return opts.image;
  const allowed = new Set([opts.image, ...opts.imageAllowlist].map(normalizeImageRef));
  if (allowed.has(normalizeImageRef(wanted))) return wanted;
  throw new DockerSandboxError(
    'IMAGE_NOT_ALLOWED',
    'the node asks for a Docker image this agent does not allow (see VESPID_AGENT_DOCKER_IMAGE_ALLOWLIST)',
    { details: { image: wanted.slice(0, 512) } },
  );
}

/** The effective timeout: the node may shorten the operator's limit, never extend it. */
export function resolveTimeoutMs(opts: ResolvedDockerSandboxOptions, sandbox: SandboxConfig | undefined): number {
  return Math.min(sandbox?.timeoutMs ?? opts.timeoutMs, opts.timeoutMs);
}

/** The container environment and the names (never values) of what it was built from. */
export interface SandboxEnv {
  /** `KEY=value` entries for `Config.Env`. Contains secrets: never log it. */
  readonly entries: string[];
  /** Passthrough keys copied from the agent process. */
  readonly passedKeys: string[];
  /** Allowed passthrough keys that the agent process does not have. */
  readonly missingKeys: string[];
}

/**
 * Builds the container env: the task's own `env`, then the passthrough keys that both the node and
 * the operator allow, read from the agent process. Any requested key the operator does not allow
 * refuses the whole task with `ENV_NOT_ALLOWED` (listing key names only): silently dropping a
 * credential would make the script fail later in a more confusing way.
 */
export function buildSandboxEnv(
  opts: ResolvedDockerSandboxOptions,
  task: ShellTask,
  sandbox: SandboxConfig | undefined,
  processEnv: NodeJS.ProcessEnv,
): SandboxEnv {
  const requested = [...new Set(sandbox?.envPassthroughAllowlist ?? [])];
  const operator = new Set(opts.envPassthroughAllowlist);
  const refused = requested.filter((k) => !operator.has(k));
  if (refused.length > 0) {
    throw new DockerSandboxError('ENV_NOT_ALLOWED', `env keys not allowed by this agent: ${refused.join(', ')}`, {
      details: { keys: refused },
    });
  }
  const env = new Map<string, string>(Object.entries(task.env ?? {}));
  const passedKeys: string[] = [];
  const missingKeys: string[] = [];
  for (const key of requested) {
    const value = processEnv[key];
    if (value === undefined) missingKeys.push(key);
    else {
      env.set(key, value);
      passedKeys.push(key);
    }
  }
  return { entries: [...env].map(([k, v]) => `${k}=${v}`), passedKeys, missingKeys };
}
