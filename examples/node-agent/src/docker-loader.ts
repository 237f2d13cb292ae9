import type Dockerode from 'dockerode';
import { CliError } from './exit-codes.js';

type DockerModule = typeof import('@vespid/sdk-agent/docker');
type DockerodeModule = { default: typeof Dockerode };

/** The Docker sandbox module and the dockerode client class, both loaded on demand. */
export interface DockerSandbox {
  sandbox: DockerModule;
  Dockerode: typeof Dockerode;
}

const isMissing = (err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && /dockerode/.test(e.message);
};

/**
 * Loads `@vespid/sdk-agent/docker` and dockerode only when `VESPID_AGENT_EXEC_BACKEND=docker` asks for
 * them, so a connector-only agent starts without the Docker client installed. dockerode is this
 * package's optional dependency and is imported from here (not from sdk-agent, which may be installed
 * elsewhere in the tree and not see it); the client is handed to the sandbox. A missing dockerode is an
 * error that names the package to install.
 */
export async function loadDockerSandbox(
  importer: () => Promise<DockerModule> = () => import('@vespid/sdk-agent/docker'),
  dockerodeImporter: () => Promise<DockerodeModule> = () => import('dockerode') as Promise<DockerodeModule>,
): Promise<DockerSandbox> {
  try {
    const [sandbox, dockerode] = await Promise.all([importer(), dockerodeImporter()]);
    return { sandbox, Dockerode: dockerode.default };
  } catch (err) {
    if (isMissing(err)) {
      throw new CliError(
        'VESPID_AGENT_EXEC_BACKEND=docker needs the dockerode package, which is not installed',
        'install it next to the agent (`npm i -g dockerode` for a global install, `npm i dockerode` in a project), or unset VESPID_AGENT_EXEC_BACKEND for a connector-only agent',
      );
    }
    throw err;
  }
}
