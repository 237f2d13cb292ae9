import { describe, expect, it } from 'vitest';
import { DispatchError } from '../errors.js';
import { loadRedisPeer } from './load.js';

const notInstalled = (code: string) => () => {
  throw Object.assign(new Error("Cannot find module 'x'"), { code });
};

describe('@vespid/sdk-dispatch/redis optional peers', () => {
  it.each(['ioredis', 'bullmq'] as const)('a missing %s is OPTIONAL_DEPENDENCY_MISSING naming the install command', (name) => {
    for (const code of ['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND']) {
      let err: unknown;
      try {
        loadRedisPeer(name, notInstalled(code));
      } catch (e) {
        err = e;
      }
      expect(DispatchError.is(err)).toBe(true);
      expect(err).toMatchObject({ code: 'OPTIONAL_DEPENDENCY_MISSING', retryable: false });
      expect((err as Error).message).toContain(`"${name}"`);
      expect((err as Error).message).toContain('npm install ioredis bullmq');
    }
  });

  it('passes any other loading failure through unchanged', () => {
    const broken = new Error('syntax error in the package');
    expect(() =>
      loadRedisPeer('ioredis', () => {
        throw broken;
      }),
    ).toThrow(broken);
  });

  it('loads the installed packages (the workspace has them as dev dependencies)', () => {
    expect(typeof loadRedisPeer('ioredis').Redis).toBe('function');
    expect(typeof loadRedisPeer('bullmq').Queue).toBe('function');
  });
});
