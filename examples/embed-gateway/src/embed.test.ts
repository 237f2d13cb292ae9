import { request } from 'node:http';
import { createDispatchClient } from '@vespid/sdk-dispatch';
import { staticAuthenticator } from '@vespid/sdk-gateway';
import { capturingLogger } from '@vespid/sdk-agent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startExpressApp } from './express.js';
import { startFastifyApp } from './fastify.js';
import { startNodeHttpGateway } from './node-http.js';
import { connectEchoAgent } from '../test/test-agent.js';
import type { EmbedOptions, EmbeddedGateway } from './types.js';

const hosts: [string, (o: EmbedOptions) => Promise<EmbeddedGateway>][] = [
  ['node:http', startNodeHttpGateway],
  ['Express', startExpressApp],
  ['Fastify', startFastifyApp],
];

describe.each(hosts)('gateway embedded in %s', (name, start) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('routes a dispatch from the worker API to a connected agent and back', async () => {
    const serviceToken = `svc-${Math.random().toString(36).slice(2)}`;
    const agentToken = `acme.tok-${name.replace(/\W/g, '')}-000000000000000001`;
    const logger = capturingLogger();
    const host = await start({
      authenticator: staticAuthenticator([{ token: agentToken, agentId: 'edge-1', organizationId: 'acme', tags: [] }]),
      serviceToken,
      port: 0,
      logger,
    });
    cleanups.push(() => host.close());
    const agent = await connectEchoAgent(host.wsUrl, agentToken);
    cleanups.push(() => agent.close({ timeoutMs: 2_000 }));

    const client = createDispatchClient({ gatewayHttpUrl: host.httpUrl, serviceToken });
    cleanups.push(() => client.close());
    const result = await client.dispatch({
      organizationId: 'acme',
      requestId: `r-${name}`,
      kind: 'example.echo',
      payload: { n: 1 },
    });
    expect(result).toMatchObject({ status: 'succeeded', output: { echo: { n: 1 } } });
    expect(await client.getResult(`r-${name}`)).toMatchObject({ status: 'succeeded', agentId: 'edge-1' });
    expect(host.gateway.listSessions().map((s) => s.agentId)).toEqual(['edge-1']);

    // A wrong service token is refused; the tokens never reach the gateway's log lines.
    const bad = createDispatchClient({ gatewayHttpUrl: host.httpUrl, serviceToken: 'wrong-token' });
    cleanups.push(() => bad.close());
    await expect(bad.getResult('r-x')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const logs = logger.lines.join('\n');
    expect(logs).not.toContain(serviceToken);
    expect(logs).not.toContain(agentToken);
  });

  it('refuses agents with unknown tokens before upgrading, and keeps its own routes', async () => {
    const host = await start({ authenticator: staticAuthenticator([]), serviceToken: 'svc', port: 0 });
    cleanups.push(() => host.close());
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(host.wsUrl.replace('ws://', 'http://'), {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          authorization: 'Bearer acme.unknown-token-000000000000000000',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        resolve(101);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
    expect(host.gateway.listSessions()).toEqual([]);
    if (name !== 'node:http') {
      const health = await fetch(`${host.httpUrl}/healthz`);
      expect(await health.json()).toEqual({ ok: true, agents: 0 });
    }
  });
});
