import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '@vespid/sdk-agent';
import { type TestGateway, startTestGateway } from '@vespid/sdk-gateway/testing';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { type DockerSandboxExecutor, SANDBOX_LABELS, dockerSandboxExecutor } from './index.js';
import { BUSYBOX, SANDBOX_UID, captureLogger } from '../../test/docker/test-helpers.js';

// gateway (real ws + HTTP dispatch route) → createAgent runtime → Docker sandbox → container, and back.
await describeWith(['docker'], 'agent.execute end to end: gateway → agent → container', () => {
  let gw: TestGateway;
  let agent: ReturnType<typeof createAgent>;
  let sandbox: DockerSandboxExecutor;
  let root: string;
  const logger = captureLogger();
  const SECRET_ENV = 'canary-e2e-5b1d9f';

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vespid-wde-'));
    gw = await startTestGateway();
    const token = `orge2e.${'t'.repeat(24)}${Date.now()}`;
    gw.auth.set({ token, agentId: 'agent-e2e', organizationId: 'orge2e', tags: [] });
    sandbox = dockerSandboxExecutor({
      image: BUSYBOX,
      workdirRoot: root,
      scope: uniquePrefix('e2e'),
      sweepIntervalMs: 0,
      killGraceMs: 300,
      envPassthroughAllowlist: ['E2E_KEY'],
      env: { E2E_KEY: SECRET_ENV },
      logger,
    });
    agent = createAgent({ gatewayWsUrl: gw.wsUrl, agentToken: token, name: 'e2e-agent', executors: [sandbox], logger });
    const connected = new Promise((r) => agent.on('connected', r));
    await agent.start();
    await connected;
  });

  afterAll(async () => {
    await agent?.close({ timeoutMs: 5000 });
    await gw?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const dispatch = (requestId: string, payload: unknown, timeoutMs = 30_000) =>
    gw.call('POST', '/internal/v1/dispatch', { organizationId: 'orge2e', requestId, kind: 'agent.execute', payload, timeoutMs });

  it('runs a shell task in a container and returns its output through the gateway', async () => {
    const payload = {
      task: { type: 'shell', script: 'echo hello from $(id -u); test -n "$E2E_KEY" && echo key-present' },
      sandbox: { envPassthroughAllowlist: ['E2E_KEY'] },
      run: { runId: 'run-e2e', nodeId: 'node-1', attempt: 0 },
    };
    const res = await dispatch('run-e2e:node-1:0', payload);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'succeeded',
      output: { exitCode: 0, stdout: `hello from ${SANDBOX_UID}\nkey-present\n`, timedOut: false, oomKilled: false },
    });
    expect(logger.lines.join('\n')).not.toContain(SECRET_ENV);
  });

  it('carries a sandbox failure code back to the caller', async () => {
    const res = await dispatch('run-e2e:node-2:0', { task: { type: 'shell', script: 'echo partial; exit 3' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'DOCKER_EXIT_CODE:3' }, output: { stdout: 'partial\n' } });
  });

  it('times out a long script and leaves no container behind', async () => {
    const res = await dispatch('run-e2e:node-3:0', { task: { type: 'shell', script: 'sleep 30' }, sandbox: { timeoutMs: 500 } });
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
    const left = await new Dockerode().listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.scope}=${sandbox.scope}`] } });
    expect(left).toEqual([]);
  });
});
