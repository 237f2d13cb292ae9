import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { capturingLogger } from '@vespid/sdk-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExecutors } from './node-agent.js';

describe('buildExecutors: the agent operator allowlist of the connectors', () => {
  const server = createServer((_req, res) => res.end('ok'));
  let connections = 0;
  let url = '';
  beforeAll(async () => {
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const call = async (env: Record<string, string>) => {
    const connectors = (await buildExecutors(env)).find((e) => e.kind === 'connector.action')!;
    return connectors.execute(
      {
        requestId: 'r',
        organizationId: 'o',
        kind: 'connector.action',
        payload: { connectorId: 'http', actionId: 'request', input: { url } },
        timeoutMs: 5_000,
      },
      { signal: new AbortController().signal, logger: capturingLogger(), deadline: Date.now() + 5_000 },
    );
  };

  it('reaches private and loopback services by default (node mode)', async () => {
    expect(await call({})).toMatchObject({ status: 'succeeded', output: { status: 200 } });
    expect(connections).toBe(1);
  });

  it('with VESPID_AGENT_HTTP_ALLOWLIST reaches only what it lists', async () => {
    const before = connections;
    expect(await call({ VESPID_AGENT_HTTP_ALLOWLIST: 'public,10.0.0.0/8' })).toMatchObject({
      status: 'failed',
      error: { code: 'DESTINATION_NOT_ALLOWED' },
    });
    expect(connections).toBe(before);
    expect(await call({ VESPID_AGENT_HTTP_ALLOWLIST: '127.0.0.1/32' })).toMatchObject({ status: 'succeeded' });
    expect(connections).toBe(before + 1);
  });

  it('refuses a malformed allowlist at startup, naming the variable', async () => {
    await expect(buildExecutors({ VESPID_AGENT_HTTP_ALLOWLIST: '10.0.0.0/99' })).rejects.toThrow(/VESPID_AGENT_HTTP_ALLOWLIST/);
  });
});
