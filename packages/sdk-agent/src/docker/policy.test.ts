import { describe, expect, it } from 'vitest';
import { resolveDockerSandboxOptions } from './options.js';
import { buildSandboxEnv, resolveNetwork, resolveTimeoutMs } from './policy.js';

const base = resolveDockerSandboxOptions({ workdirRoot: '/wd' });
const shellTask = { type: 'shell' as const, script: 'env' };

describe('sandbox policy', () => {
  it('uses no network unless the node opts in and the operator allows it', () => {
    expect(resolveNetwork(base, undefined)).toBe('none');
    expect(resolveNetwork(base, { network: 'none' })).toBe('none');
    expect(() => resolveNetwork(base, { network: 'bridge' })).toThrow(expect.objectContaining({ code: 'NETWORK_NOT_ALLOWED' }));
    expect(resolveNetwork({ ...base, allowNetwork: true }, { network: 'bridge' })).toBe('bridge');
    expect(resolveNetwork({ ...base, networkDefault: 'bridge' }, undefined)).toBe('bridge');
    expect(resolveNetwork({ ...base, networkDefault: 'bridge' }, { network: 'none' })).toBe('none');
  });

  it('lets a node shorten the timeout but never extend it', () => {
    expect(resolveTimeoutMs(base, undefined)).toBe(30_000);
    expect(resolveTimeoutMs(base, { timeoutMs: 1000 })).toBe(1000);
    expect(resolveTimeoutMs(base, { timeoutMs: 3_600_000 })).toBe(30_000);
  });

  it('copies only keys allowed by both sides and refuses the rest by name only', () => {
    const opts = { ...base, envPassthroughAllowlist: ['A', 'B'] };
    const processEnv = { A: 'secret-a', B: 'secret-b', C: 'secret-c' };
    const env = buildSandboxEnv(
      { ...opts, envPassthroughAllowlist: ['A', 'B', 'M'] },
      { ...shellTask, env: { X: '1' } },
      { envPassthroughAllowlist: ['A', 'M'] },
      processEnv,
    );
    expect(env).toEqual({ entries: ['X=1', 'A=secret-a'], passedKeys: ['A'], missingKeys: ['M'] });

    let thrown: unknown;
    try {
      buildSandboxEnv(opts, shellTask, { envPassthroughAllowlist: ['A', 'C'] }, processEnv);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'ENV_NOT_ALLOWED', details: { keys: ['C'] } });
    expect(JSON.stringify(thrown) + String((thrown as Error).message)).not.toContain('secret-');
  });

  it('passes nothing from the agent when the node asks for nothing', () => {
    const env = buildSandboxEnv({ ...base, envPassthroughAllowlist: ['A'] }, shellTask, undefined, { A: 'secret-a' });
    expect(env.entries).toEqual([]);
  });
});
