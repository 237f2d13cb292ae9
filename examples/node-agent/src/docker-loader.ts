import { CliError } from './exit-codes.js';

type DockerModule = typeof import('@vespid/sdk-agent/docker');

/**
 * Loads `@vespid/sdk-agent/docker` (and with it dockerode) only when `VESPID_AGENT_EXEC_BACKEND=docker`
 * asks for it, so a connector-only agent starts without the Docker client installed. A missing
 * dockerode is an error that names the package to install.
 */
export async function loadDockerSandbox(
  importer: () => Promise<DockerModule> = () => import('@vespid/sdk-agent/docker'),
): Promise<DockerModule> {
  try {
    return await importer();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && /dockerode/.test(e.message)) {
      throw new CliError(
        'VESPID_AGENT_EXEC_BACKEND=docker needs the dockerode package, which is not installed',
        'install it next to the agent (`npm i -g dockerode` for a global install, `npm i dockerode` in a project), or unset VESPID_AGENT_EXEC_BACKEND for a connector-only agent',
      );
    }
    throw err;
  }
}
