import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatchClient } from './dispatch-client.js';

const TOKEN = 'svc-token-queue-CANARY';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const readBody = (req: IncomingMessage) =>
  new Promise<unknown>((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => resolve(JSON.parse(text)));
  });

/** A gateway stand-in that queues every dispatch and cancels on request; records what it received. */
async function queueingGateway() {
  const seen: Array<{ path: string | undefined; body: unknown }> = [];
  const explanation = {
    message: 'no agent available for org o (kind agent.execute): 0 connected',
    connected: 0,
    excluded: { kind: 0, connector: 0, selector: 0, capacity: 0 },
  };
  const srv = createServer(async (req, res) => {
    const body = (await readBody(req)) as { requestId: string };
    seen.push({ path: req.url, body });
    const reply =
      req.url === '/internal/v1/cancel'
        ? [200, { requestId: body.requestId, cancelled: true }]
        : [202, { requestId: body.requestId, dispatched: false, queued: true, position: 3, explanation }];
    res.writeHead(reply[0] as number, { 'content-type': 'application/json' }).end(JSON.stringify(reply[1]));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen };
}

describe('dispatch client: queued dispatch', () => {
  it('passes queueTimeoutMs, accepts 202 queued with position and explanation, and cancels', async () => {
    const gw = await queueingGateway();
    // A stand-in for the HTTP routes only (it reads a JSON body from every request, upgrades included).
    const client = createDispatchClient({ gatewayHttpUrl: gw.url, serviceToken: TOKEN, channel: 'http' });
    closers.push(() => client.close());
    const request = { organizationId: 'o', requestId: 'run1:n1:0', kind: 'agent.execute', payload: {}, queueTimeoutMs: 300_000 };
    const answer = await client.dispatchAsync(request);
    expect(answer).toMatchObject({ requestId: 'run1:n1:0', dispatched: false, queued: true, position: 3, explanation: { connected: 0 } });
    expect(gw.seen[0]).toMatchObject({ path: '/internal/v1/dispatch-async', body: { queueTimeoutMs: 300_000 } });
    expect(await client.cancel({ organizationId: 'o', requestId: 'run1:n1:0' })).toEqual({ requestId: 'run1:n1:0', cancelled: true });
    expect(gw.seen[1]).toEqual({ path: '/internal/v1/cancel', body: { organizationId: 'o', requestId: 'run1:n1:0' } });
  });
});
