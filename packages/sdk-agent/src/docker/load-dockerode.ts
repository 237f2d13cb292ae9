import type Dockerode from 'dockerode';
import { DockerSandboxError } from './errors.js';

type DockerodeModule = { default: typeof Dockerode };

/**
 * Loads dockerode, an optional peer dependency: a connector-only agent never installs it (it brings
 * ssh2 and a native addon), so it is imported only when a Docker sandbox first needs the engine. The
 * import is a literal so bundlers (the agent's single binary) still include it.
 */
export async function loadDockerode(
  importer: () => Promise<DockerodeModule> = () => import('dockerode') as Promise<DockerodeModule>,
): Promise<typeof Dockerode> {
  try {
    const mod = await importer();
    return mod.default;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    throw new DockerSandboxError(
      'OPTIONAL_DEPENDENCY_MISSING',
      'the Docker sandbox needs the package "dockerode", which is not installed: npm install dockerode (or pass options.docker)',
      { cause: err },
    );
  }
}
