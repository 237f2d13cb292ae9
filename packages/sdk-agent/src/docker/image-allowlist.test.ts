import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { dockerSandboxExecutor } from './executor.js';
import { dockerSandboxOptionsFromEnv, resolveDockerSandboxOptions } from './options.js';
import { normalizeImageRef, resolveImage } from './policy.js';
import { captureLogger, context, shell, task } from '../../test/docker/test-helpers.js';

describe('sandbox image allowlist', () => {
  const base = resolveDockerSandboxOptions({ workdirRoot: '/wd', image: 'node:24-alpine' });

  it('allows only the configured image by default', () => {
    expect(resolveImage(base, undefined)).toBe('node:24-alpine');
    expect(resolveImage(base, { docker: { image: 'docker.io/library/node:24-alpine' } })).toBe('docker.io/library/node:24-alpine');
    for (const image of ['node:24', 'node', 'alpine:3', 'postgres:16', 'node:24-alpine@sha256:00', 'evil/node:24-alpine']) {
      expect(() => resolveImage(base, { docker: { image } }), image).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_ALLOWED' }));
    }
  });

  it('opens exactly the listed images (VESPID_AGENT_DOCKER_IMAGE_ALLOWLIST)', () => {
    const o = resolveDockerSandboxOptions({
      ...dockerSandboxOptionsFromEnv({ VESPID_AGENT_DOCKER_IMAGE_ALLOWLIST: ' python:3.12-slim, ghcr.io/acme/tools ' }),
      workdirRoot: '/wd',
    });
    expect(o.imageAllowlist).toEqual(['python:3.12-slim', 'ghcr.io/acme/tools']);
    expect(resolveImage(o, { docker: { image: 'python:3.12-slim' } })).toBe('python:3.12-slim');
    expect(resolveImage(o, { docker: { image: 'ghcr.io/acme/tools:latest' } })).toBe('ghcr.io/acme/tools:latest');
    expect(() => resolveImage(o, { docker: { image: 'python:3.13-slim' } })).toThrow(/not allow/);
    expect(() => resolveImage(o, { docker: { image: 'ghcr.io/acme/tools:v2' } })).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_ALLOWED' }),
    );
  });

  it('normalises references', () => {
    expect(normalizeImageRef('node')).toBe('node:latest');
    expect(normalizeImageRef('docker.io/library/node:24')).toBe('node:24');
    expect(normalizeImageRef('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(normalizeImageRef('app@sha256:ab')).toBe('app@sha256:ab');
  });

  it('refuses before any Engine call', async () => {
    const calls: string[] = [];
    const engine = new Proxy(
      {},
      {
        get(_t, prop) {
          calls.push(String(prop));
          return () => Promise.reject(new Error('engine called'));
        },
      },
    ) as Dockerode;
    const logger = captureLogger();
    const sandbox = dockerSandboxExecutor({ docker: engine, image: 'vespid/sandbox-busybox:test', workdirRoot: '/nonexistent/wd', logger });
    const r = await sandbox.execute(task(shell('id', { docker: { image: 'vespid/sandbox-node:test' } })), context(logger));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'IMAGE_NOT_ALLOWED', details: { image: 'vespid/sandbox-node:test' } } });
    expect(calls.filter((c) => c !== 'then')).toEqual([]);
    await sandbox.close();
  });
});
