import { createFakeDispatchGateway } from '@vespid/sdk-dispatch/testing';
import { describe, expect, it } from 'vitest';
import { createDispatchClient } from './client/dispatch-client.js';
import { createDispatchTracing } from './tracing.js';

describe('dispatch tracing', () => {
  it('is off by default: nothing loaded, and the request carries no trace', async () => {
    let loads = 0;
    expect(createDispatchTracing(undefined, () => loads++)).toBeNull();
    expect(createDispatchTracing(false, () => loads++)).toBeNull();
    expect(loads).toBe(0);
    const gw = createFakeDispatchGateway({ serviceToken: 't' });
    const client = createDispatchClient({ gatewayHttpUrl: await gw.start(), serviceToken: 't' });
    try {
      await client.dispatchAsync({ organizationId: 'o', requestId: 'r:n:0', kind: 'agent.execute', payload: {} });
      expect(gw.accepted[0]).not.toHaveProperty('trace');
    } finally {
      await client.close();
      await gw.close();
    }
  });

  it('names the missing optional peer when tracing is asked for without it', () => {
    const missing = () => {
      throw Object.assign(new Error('nope'), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => createDispatchTracing({}, missing)).toThrow(expect.objectContaining({ code: 'OPTIONAL_DEPENDENCY_MISSING' }));
  });
});
