import { ROUTES } from '@vespid/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestGateway, startTestGateway } from './testing/index.js';
import { createGatewayTracing } from './tracing.js';

const ORG = 'org-t';
const TRACE = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
const missing = () => {
  throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
};

describe('gateway tracing', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('is off by default and then never loads @opentelemetry/api', () => {
    let loads = 0;
    const load = () => {
      loads++;
      return {};
    };
    expect(createGatewayTracing(undefined, load)).toBeNull();
    expect(createGatewayTracing(false, load)).toBeNull();
    expect(loads).toBe(0);
  });

  it('names the missing optional peer when tracing is asked for without it', () => {
    expect(() => createGatewayTracing(true, missing)).toThrow(
      expect.objectContaining({ code: 'OPTIONAL_DEPENDENCY_MISSING', message: expect.stringContaining('@opentelemetry/api') }),
    );
  });

  const dispatchTo = async (gw: TestGateway, features: string[] | undefined) => {
    const a = await gw.agent(
      { agentId: `a-${features?.length ?? 0}`, organizationId: ORG, tags: [] },
      features ? { capabilities: { features } } : {},
    );
    const requestId = `r${Math.random().toString(36).slice(2)}:n:0`;
    const body = { organizationId: ORG, requestId, kind: 'agent.execute', payload: {}, trace: TRACE };
    expect((await gw.call('POST', ROUTES.dispatchAsync, body)).status).toBe(201);
    const frame = (await a.next('execute')) as { trace?: unknown };
    await a.close();
    return frame;
  };

  it('sends execute.trace only to agents that announced the trace feature (an older agent never sees it)', async () => {
    t = await startTestGateway({ tracing: true });
    expect((await dispatchTo(t, ['trace'])).trace).toEqual(TRACE);
    expect((await dispatchTo(t, undefined)).trace).toBeUndefined();
  });

  it('without tracing sends no trace, even to an agent that announced the feature', async () => {
    t = await startTestGateway();
    expect((await dispatchTo(t, ['trace'])).trace).toBeUndefined();
  });
});
