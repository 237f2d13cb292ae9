import { describe, expect, it } from 'vitest';
import { loadDockerode } from './load-dockerode.js';

describe('loadDockerode (optional peer dependency)', () => {
  it('loads the installed dockerode', async () => {
    const Docker = await loadDockerode();
    expect(typeof Docker).toBe('function');
  });

  it('names the package to install when dockerode is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package 'dockerode'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const err = await loadDockerode(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPTIONAL_DEPENDENCY_MISSING', retryable: false });
    expect((err as Error).message).toContain('npm install dockerode');
  });

  it('does not disguise other load failures', async () => {
    const broken = new SyntaxError('Unexpected token');
    await expect(loadDockerode(() => Promise.reject(broken))).rejects.toBe(broken);
  });
});
