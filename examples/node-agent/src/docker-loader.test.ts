import { describe, expect, it } from 'vitest';
import { loadDockerSandbox } from './docker-loader.js';
import { CliError } from './exit-codes.js';

describe('loadDockerSandbox', () => {
  it('loads the docker subpath when it is installed', async () => {
    const { sandbox, Dockerode } = await loadDockerSandbox();
    expect(typeof sandbox.dockerSandboxExecutor).toBe('function');
    expect(typeof Dockerode).toBe('function');
  });

  it('names the package to install when dockerode is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package 'dockerode' imported from /x/sdk-agent/dist/docker/index.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const sandbox = () => import('@vespid/sdk-agent/docker');
    const err = await loadDockerSandbox(sandbox, () => Promise.reject(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe('VESPID_AGENT_EXEC_BACKEND=docker needs the dockerode package, which is not installed');
    expect((err as CliError).hint).toMatch(/npm i -g dockerode/);
  });

  it('passes any other failure through', async () => {
    const other = new Error('boom');
    await expect(loadDockerSandbox(() => Promise.reject(other))).rejects.toBe(other);
  });
});
