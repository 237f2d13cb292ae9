import { describe, expect, it } from 'vitest';
import { DispatchError } from '../errors.js';
import { loadRedisPeer } from './load.js';

const notInstalled = (code: string) => async () => {
  throw Object.assign(new Error("Cannot find module 'x'"), { code });
};

describe('@vespid/sdk-dispatch/redis optional peers', () => {
  it.each(['ioredis', 'bullmq'] as const)('a missing %s is OPTIONAL_DEPENDENCY_MISSING naming the install command', async (name) => {
    // ESM import() and CommonJS require() report a missing package with different codes.
    for (const code of ['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']) {
      const err = await loadRedisPeer(name, notInstalled(code)).catch((e: unknown) => e);
      expect(DispatchError.is(err)).toBe(true);
      expect(err).toMatchObject({ code: 'OPTIONAL_DEPENDENCY_MISSING', retryable: false });
      expect((err as Error).message).toContain(`"${name}"`);
      expect((err as Error).message).toContain('npm install ioredis bullmq');
    }
  });

  it('passes any other loading failure through unchanged', async () => {
    const broken = new Error('syntax error in the package');
    await expect(
      loadRedisPeer('ioredis', async () => {
        throw broken;
      }),
    ).rejects.toBe(broken);
  });

  it('loads the installed packages (the workspace has them as dev dependencies)', async () => {
    expect(typeof (await loadRedisPeer('ioredis')).Redis).toBe('function');
    expect(typeof (await loadRedisPeer('bullmq')).Queue).toBe('function');
  });
});
