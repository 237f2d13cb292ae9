import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTES } from '@vespid/protocol';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AgentAuthenticator } from '../authenticator.js';
import { staticAuthenticator } from '../authenticator.js';
import { type Gateway, createGateway } from '../gateway.js';
import { connectTestAgent } from '../testing/index.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const SVC = 'service-token-for-tests';
const ORG = 'org-1';
const TOKEN = `${ORG}.agenttokenagenttoken01`;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function gatewayWith(
  authenticator: AgentAuthenticator = staticAuthenticator([{ token: TOKEN, agentId: 'a', organizationId: ORG, tags: [] }]),
  extra = {},
) {
  const gateway = createGateway({ authenticator, serviceToken: SVC, ...extra });
  cleanups.push(() => gateway.close({ timeoutMs: 500 }));
  return gateway;
}

async function listen(server: ReturnType<typeof createServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function dispatchVia(base: string, gateway: Gateway) {
  const agent = await connectTestAgent({ url: `${base.replace('http', 'ws')}/ws`, token: TOKEN });
  cleanups.push(() => agent.close());
  agent.autoRespond();
  const res = await fetch(`${base}${ROUTES.dispatch}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SVC}`, 'content-type': 'application/json' },
    body: JSON.stringify({ organizationId: ORG, requestId: 'r:n:0', kind: 'agent.execute', payload: { x: 1 } }),
  });
  expect(gateway.listSessions()).toHaveLength(1);
  return { status: res.status, body: (await res.json()) as any };
}

describe('HTTP and upgrade adapters', () => {
  it('mounts in an Express-style middleware chain: uses a pre-parsed body and calls next() for other paths', async () => {
    const gateway = gatewayWith();
    // The same contract Express uses: express.json() sets req.body, then (req, res, next) middlewares run in order.
    type Mw = (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: () => void) => void;
    const jsonBody: Mw = (req, _res, next) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => {
        if (text) req.body = JSON.parse(text);
        next();
      });
    };
    const fallback: Mw = (_req, res) => res.writeHead(200).end('app route');
    const chain: Mw[] = [jsonBody, gateway.httpHandler, fallback];
    const server = createServer((req, res) => {
      const run = (i: number) => chain[i]?.(req, res, () => run(i + 1));
      run(0);
    });
    gateway.attach(server, { path: '/ws' });
    const port = await listen(server);
    const base = `http://127.0.0.1:${port}`;
    const r = await dispatchVia(base, gateway);
    expect(r).toEqual({ status: 200, body: { requestId: 'r:n:0', status: 'succeeded', output: { echo: { x: 1 } } } });
    expect(await (await fetch(`${base}/hello`)).text()).toBe('app route');
  });

  it('mounts in Fastify through handleUpgrade and handleInternalRequest', async () => {
    const gateway = gatewayWith();
    const app = Fastify();
    app.all('/internal/v1/*', async (request, reply) => {
      const r = await gateway.handleInternalRequest({
        method: request.method,
        url: request.url,
        authorization: request.headers.authorization,
        body: request.body,
      });
      return reply.code(r.status).send(r.body);
    });
    app.server.on('upgrade', (req, socket, head) => {
      if (req.url === '/ws') gateway.handleUpgrade(req, socket, head);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    const port = (app.server.address() as AddressInfo).port;
    const r = await dispatchVia(`http://127.0.0.1:${port}`, gateway);
    expect(r.status).toBe(200);
    expect(r.body.output).toEqual({ echo: { x: 1 } });
  });

  it('leaves other upgrade paths to their own listeners', async () => {
    const gateway = gatewayWith();
    const server = createServer(gateway.httpHandler);
    gateway.attach(server, { path: '/ws' });
    const other = new WebSocketServer({ noServer: true });
    cleanups.push(() => other.close());
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('other-server'));
    });
    const port = await listen(server);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
    const msg = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    ws.close();
    expect(msg).toBe('other-server');
  });

  it('answers 503 when the authenticator fails or too many upgrades are pending, and never crashes', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const slow: AgentAuthenticator = {
      async authenticate() {
        calls++;
        if (calls > 3) throw new Error('db down');
        await gate;
        return { ok: false, reason: 'invalid' };
      },
    };
    const gateway = gatewayWith(slow, { maxPendingUpgrades: 3 });
    const server = createServer(gateway.httpHandler);
    gateway.attach(server);
    const port = await listen(server);
    const url = `ws://127.0.0.1:${port}/ws`;
    const attempt = () =>
      connectTestAgent({ url, token: TOKEN }).then(
        () => 'open',
        (e: Error) => e.message,
      );
    const pending = [attempt(), attempt(), attempt()];
    // All three upgrades are pending once each reached the (gated) authenticator.
    await waitFor(() => calls === 3, 'three pending upgrades');
    const flooded = await Promise.all(Array.from({ length: 20 }, attempt));
    expect(flooded.every((m) => m.startsWith('HTTP 503') && m.includes('RATE_LIMITED'))).toBe(true);
    release();
    expect((await Promise.all(pending)).every((m) => m.startsWith('HTTP 401'))).toBe(true);
    expect(await attempt()).toMatch(/HTTP 503 .*GATEWAY_UNAVAILABLE/);
  });

  it('refuses an upgrade without a bearer token with 401 JSON', async () => {
    const gateway = gatewayWith();
    const server = createServer(gateway.httpHandler);
    gateway.attach(server);
    const port = await listen(server);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
    expect(status).toBe(401);
  });
});
