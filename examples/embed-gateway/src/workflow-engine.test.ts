import { staticAuthenticator } from '@vespid/sdk-gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeHttpGateway } from './node-http.js';
import { connectEchoAgent } from '../test/test-agent.js';
import { createTinyEngine } from './workflow-engine.js';

describe('createTinyEngine (sdk-dispatch in your own workflow engine)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const agentToken = 'acme.tok-engine-00000000000000000001';
    const host = await startNodeHttpGateway({
      authenticator: staticAuthenticator([{ token: agentToken, agentId: 'edge-1', organizationId: 'acme', tags: [] }]),
      serviceToken: 'svc-engine',
      port: 0,
    });
    cleanups.push(() => host.close());
    const agent = await connectEchoAgent(host.wsUrl, agentToken);
    cleanups.push(() => agent.close({ timeoutMs: 2_000 }));
    // No Redis here: results arrive by polling every 25 ms.
    const engine = createTinyEngine({ gatewayHttpUrl: host.httpUrl, serviceToken: 'svc-engine', pollMs: 25 });
    await engine.start();
    cleanups.push(() => engine.close());
    return engine;
  }

  it('runs remote steps one after the other and resumes each exactly once', async () => {
    const engine = await setup();
    await engine.run({
      organizationId: 'acme',
      runId: 'run-1',
      steps: [
        { id: 'first', kind: 'example.echo', payload: { n: 1 } },
        { id: 'second', kind: 'example.echo', payload: { n: 2 } },
      ],
    });
    const run = await engine.finished('run-1');
    expect(run.status).toBe('succeeded');
    expect(run.outputs).toEqual({ first: { echo: { n: 1 } }, second: { echo: { n: 2 } } });
    expect(run.events).toEqual(['node_dispatched:first', 'node_succeeded:first', 'node_dispatched:second', 'node_succeeded:second']);
  });

  it('fails the run with the agent error of a failed step', async () => {
    const engine = await setup();
    await engine.run({ organizationId: 'acme', runId: 'run-2', steps: [{ id: 'boom', kind: 'example.echo', payload: { fail: true } }] });
    const run = await engine.finished('run-2');
    expect(run).toMatchObject({ status: 'failed', error: { code: 'BAD_REQUEST' }, events: ['node_dispatched:boom', 'node_failed:boom'] });
  });
});
