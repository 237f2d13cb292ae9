import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentOptionsFromEnv } from './agent-options.js';
import { createAgent } from './agent.js';
import type { Executor } from './executor.js';
import { readCaFile } from './network.js';
import { pairAgent } from './pairing.js';
import { createFakeAgentGateway, type FakeAgentGateway } from './testing/index.js';
import { connectProxy, makeTestPki } from '../test/test-tls.js';

const TOKEN = `org-tls.tok_${'b'.repeat(24)}`;
const echo: Executor = { kind: 'echo', execute: async (t) => ({ status: 'succeeded', output: t.payload }) };

describe('TLS CA file', () => {
  let pki: ReturnType<typeof makeTestPki>;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.cleanup());

  it('an unreadable or non-PEM VESPID_AGENT_TLS_CA_FILE is a startup error', () => {
    expect(() => agentOptionsFromEnv({ VESPID_AGENT_TLS_CA_FILE: join(pki.dir, 'missing.pem') })).toThrow(/cannot be read: ENOENT/);
    const junk = join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'hello');
    expect(() => readCaFile(junk)).toThrow(expect.objectContaining({ code: 'AGENT_CONFIG_INVALID' }));
    expect(agentOptionsFromEnv({ VESPID_AGENT_TLS_CA_FILE: pki.caFile }).ca?.toString()).toBe(pki.ca);
  });
});

describe('wss:// with a private CA, direct and through a CONNECT proxy', () => {
  let pki: ReturnType<typeof makeTestPki>;
  let gw: FakeAgentGateway;
  let proxy: Awaited<ReturnType<typeof connectProxy>>;
  beforeAll(async () => {
    pki = makeTestPki();
    gw = await createFakeAgentGateway({ token: TOKEN, tls: { key: pki.key, cert: pki.cert } });
    proxy = await connectProxy();
  });
  afterAll(async () => {
    await gw.close();
    await proxy.close();
    pki.cleanup();
  });

  it('refuses the unknown CA without the CA file and connects with it', async () => {
    const untrusting = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: TOKEN,
      name: 'tls',
      executors: [echo],
      proxyForUrl: () => undefined,
    });
    const firstFailure = new Promise<string>((r) => untrusting.on('disconnected', (d) => r(d.reason)));
    await untrusting.start();
    expect(await firstFailure).toMatch(/certificate/i);
    await untrusting.close({ timeoutMs: 100 });

    const agent = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: TOKEN,
      name: 'tls',
      executors: [echo],
      ca: pki.ca,
      proxyForUrl: () => undefined,
    });
    const connected = new Promise((r) => agent.on('connected', r));
    await agent.start();
    await connected;
    expect(await gw.execute({ requestId: 'tls1', kind: 'echo', payload: 'over tls' })).toMatchObject({
      status: 'succeeded',
      output: 'over tls',
    });
    await agent.close({ timeoutMs: 500 });
  });

  it('tunnels the WebSocket through HTTPS_PROXY with the CA honoured inside the tunnel', async () => {
    const before = proxy.tunnels.length;
    const agent = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: TOKEN,
      name: 'tls',
      executors: [echo],
      ca: pki.ca,
      proxyForUrl: () => proxy.url,
    });
    const connected = new Promise((r) => agent.on('connected', r));
    await agent.start();
    await connected;
    expect(proxy.tunnels.slice(before)).toEqual([`127.0.0.1:${gw.port}`]);
    await agent.close({ timeoutMs: 500 });
  });

  it('pairs through the proxy against an https control plane with the private CA', async () => {
    const api = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.statusCode = req.url === '/v1/agents/pair' ? 201 : 404;
      res.end(JSON.stringify({ agentId: 'a', agentToken: TOKEN, organizationId: 'org-tls', gatewayWsUrl: gw.url }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const apiBase = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
    try {
      const before = proxy.tunnels.length;
      const creds = await pairAgent({
        pairingToken: 'org-tls.pairing_0123456789',
        apiBase,
        name: 'p',
        ca: pki.ca,
        proxyForUrl: () => proxy.url,
      });
      expect(creds.agentId).toBe('a');
      expect(proxy.tunnels.length).toBe(before + 1);
      await expect(
        pairAgent({ pairingToken: 'org-tls.pairing_0123456789', apiBase, name: 'p', proxyForUrl: () => undefined }),
      ).rejects.toMatchObject({
        // Pairing talks to the control plane, not the gateway: the error names the right side.
        code: 'CONTROL_PLANE_UNREACHABLE',
      });
    } finally {
      api.closeAllConnections();
      await new Promise<void>((r) => api.close(() => r()));
    }
  });
});

describe('proxy selection from the environment', () => {
  const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY, HTTP_PROXY: process.env.HTTP_PROXY };
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('uses HTTPS_PROXY for wss:// and HTTP_PROXY for ws://, and honours NO_PROXY', async () => {
    const { createNetwork } = await import('./network.js');
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128';
    process.env.HTTP_PROXY = 'http://plain-proxy.corp:3128';
    process.env.NO_PROXY = '.internal.corp,127.0.0.1';
    const net = createNetwork();
    expect(net.wsOptions('wss://gw.example.com/ws').agent).toBeDefined();
    expect(net.wsOptions('ws://gw.example.com/ws').agent).toBeDefined();
    expect(net.wsOptions('wss://gw.internal.corp/ws').agent).toBeUndefined();
    expect(net.wsOptions('ws://127.0.0.1:3002/ws').agent).toBeUndefined();
    await net.close();
  });
});
