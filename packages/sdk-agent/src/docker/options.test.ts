import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerSandboxOptionsFromEnv, isDockerBackendSelected, resolveDockerSandboxOptions } from './options.js';

describe('docker sandbox options', () => {
  it('defaults to the runbook Strict profile', () => {
    const o = resolveDockerSandboxOptions(dockerSandboxOptionsFromEnv({}));
    expect(o).toMatchObject({
      workdirRoot: join(homedir(), '.vespid/workdir'),
      image: 'node:24-alpine',
      networkDefault: 'none',
      allowNetwork: false,
      timeoutMs: 30_000,
      memoryMb: 256,
      cpus: 1,
      pids: 256,
      outputMaxChars: 65_536,
      envPassthroughAllowlist: [],
      keepWorkdirs: false,
      allowPull: false,
      workdirMaxMb: 512,
      imageAllowlist: [],
    });
  });

  it('bounds /work unless the operator sets 0; keeping workdirs needs the unbounded host directory', () => {
    expect(resolveDockerSandboxOptions(dockerSandboxOptionsFromEnv({ VESPID_AGENT_DOCKER_WORKDIR_MAX_MB: '64' })).workdirMaxMb).toBe(64);
    expect(resolveDockerSandboxOptions(dockerSandboxOptionsFromEnv({ VESPID_AGENT_DOCKER_WORKDIR_MAX_MB: '0' })).workdirMaxMb).toBe(0);
    expect(resolveDockerSandboxOptions({ keepWorkdirs: true }).workdirMaxMb).toBe(0);
    expect(() => resolveDockerSandboxOptions({ keepWorkdirs: true, workdirMaxMb: 64 })).toThrow(/keepWorkdirs needs workdirMaxMb 0/);
    expect(() => resolveDockerSandboxOptions({ workdirMaxMb: -1 })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it('reads every VESPID_AGENT_* variable', () => {
    const env = {
      VESPID_AGENT_WORKDIR_ROOT: '/srv/wd',
      VESPID_AGENT_DOCKER_IMAGE: 'alpine:3',
      VESPID_AGENT_DOCKER_NETWORK_DEFAULT: 'bridge',
      VESPID_AGENT_DOCKER_TIMEOUT_MS: '5000',
      VESPID_AGENT_DOCKER_MEMORY_MB: '128',
      VESPID_AGENT_DOCKER_CPUS: '0.5',
      VESPID_AGENT_DOCKER_PIDS: '64',
      VESPID_AGENT_DOCKER_OUTPUT_MAX_CHARS: '100',
      VESPID_AGENT_ENV_PASSTHROUGH_ALLOWLIST: 'OPENAI_API_KEY, OTHER_KEY',
      VESPID_AGENT_DOCKER_ALLOW_NETWORK: 'true',
      VESPID_AGENT_KEEP_WORKDIRS: '1',
      VESPID_AGENT_DOCKER_WORKDIR_MAX_MB: '0',
      VESPID_AGENT_DOCKER_ALLOW_PULL: 'yes',
      VESPID_AGENT_DOCKER_POOL_SIZE: '3',
    };
    const o = resolveDockerSandboxOptions(dockerSandboxOptionsFromEnv(env));
    expect(o).toMatchObject({
      workdirRoot: '/srv/wd',
      image: 'alpine:3',
      networkDefault: 'bridge',
      timeoutMs: 5000,
      memoryMb: 128,
      cpus: 0.5,
      pids: 64,
      outputMaxChars: 100,
      envPassthroughAllowlist: ['OPENAI_API_KEY', 'OTHER_KEY'],
      allowNetwork: true,
      keepWorkdirs: true,
      allowPull: true,
      poolSize: 3,
    });
    expect(o.env).toBe(env);
  });

  it('refuses invalid values with BAD_REQUEST naming the field', () => {
    expect(() => dockerSandboxOptionsFromEnv({ VESPID_AGENT_DOCKER_CPUS: 'lots' })).toThrow(/VESPID_AGENT_DOCKER_CPUS/);
    expect(() => dockerSandboxOptionsFromEnv({ VESPID_AGENT_DOCKER_NETWORK_DEFAULT: 'host' })).toThrow(/none or bridge/);
    expect(() => dockerSandboxOptionsFromEnv({ VESPID_AGENT_KEEP_WORKDIRS: 'maybe' })).toThrow(/true or false/);
    expect(() => resolveDockerSandboxOptions({ poolSize: 17 })).toThrow(/poolSize/);
    expect(resolveDockerSandboxOptions({}).poolSize).toBe(0);
    expect(() => resolveDockerSandboxOptions({ pids: 0 })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringMatching(/pids/) }),
    );
    expect(() => resolveDockerSandboxOptions({ user: '0:0' })).toThrow(/root/);
  });

  it('selects the backend only with VESPID_AGENT_EXEC_BACKEND=docker', () => {
    expect(isDockerBackendSelected({ VESPID_AGENT_EXEC_BACKEND: 'docker' })).toBe(true);
    expect(isDockerBackendSelected({})).toBe(false);
    expect(isDockerBackendSelected({ VESPID_AGENT_EXEC_BACKEND: 'none' })).toBe(false);
  });
});
