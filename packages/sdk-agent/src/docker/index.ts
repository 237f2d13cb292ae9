/**
 * `@vespid/sdk-agent/docker` — the hardened Docker sandbox executor for `agent.execute` nodes.
 *
 * @example
 * ```ts
 * import { dockerSandboxExecutor, dockerSandboxOptionsFromEnv, isDockerBackendSelected } from '@vespid/sdk-agent/docker';
 *
 * const executors = isDockerBackendSelected(process.env)
 *   ? [dockerSandboxExecutor({ ...dockerSandboxOptionsFromEnv(process.env), logger })]
 *   : [];
 * ```
 *
 * @packageDocumentation
 */
export { dockerSandboxExecutor, type DockerSandboxExecutor, type DockerSandboxState } from './executor.js';
export {
  dockerSandboxOptionsFromEnv,
  isDockerBackendSelected,
  resolveDockerSandboxOptions,
  DockerSandboxOptionsSchema,
  type DockerSandboxOptions,
  type ResolvedDockerSandboxOptions,
} from './options.js';
export { DockerSandboxError } from './errors.js';
export { LABELS as SANDBOX_LABELS } from './container-spec.js';
export type { SandboxOutput } from './outcome.js';
