import { describe, expect, it } from 'vitest';
import { buildHello } from './hello.js';
import { createAgentTracing } from './tracing.js';

const host = { os: 'linux', arch: 'x64', hostname: 'h', nodeVersion: '20.20.0' };
const o = { name: 'edge', tags: [], maxInFlight: 2, agentVersion: '1.0.0' };
const executors = [{ kind: 'connector.action', execute: async () => ({ status: 'succeeded' as const }) }];

describe('agent tracing', () => {
  it('is off by default: nothing loaded, no trace feature announced', () => {
    let loads = 0;
    expect(createAgentTracing(undefined, () => loads++)).toBeNull();
    expect(createAgentTracing(false, () => loads++)).toBeNull();
    expect(loads).toBe(0);
    expect(buildHello(o, executors, host).capabilities.features).toBeUndefined();
  });

  it('announces the trace feature when on, and names the missing optional peer', () => {
    expect(buildHello({ ...o, tracing: true }, executors, host).capabilities.features).toEqual(['trace']);
    const missing = () => {
      throw Object.assign(new Error('nope'), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    expect(() => createAgentTracing(true, missing)).toThrow(
      expect.objectContaining({ code: 'OPTIONAL_DEPENDENCY_MISSING', message: expect.stringContaining('npm i @opentelemetry/api') }),
    );
  });
});
