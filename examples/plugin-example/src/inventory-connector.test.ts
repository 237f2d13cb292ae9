import { once } from 'node:events';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectorActionExecutor } from '@vespid/sdk-agent';
import { capturingLogger, executorConformance } from '@vespid/sdk-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryConnector } from './inventory-connector.js';

const API_KEY = `inventory-key-${Math.random().toString(36).slice(2)}`;

/** A stand-in for the customer's private inventory API on 127.0.0.1:0. */
async function startInventoryApi() {
  const seen: { method?: string; url?: string; authorization?: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
      if (req.url === '/items/SLOW-1') return; // never answers: the abort path
      if (req.url === '/items/MISSING') return void res.writeHead(404).end();
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') res.end(JSON.stringify({ reservationId: 'res-1', ...JSON.parse(body) }));
      else res.end(JSON.stringify({ sku: req.url?.split('/')[2], stock: 7 }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// #region conformance
// A connector is tested through the executor that runs it: connector.action with this connector only.
let api: Awaited<ReturnType<typeof startInventoryApi>> | undefined;
executorConformance({
  name: 'connectorActionExecutor (inventory)',
  create: async () => {
    api = await startInventoryApi();
    return connectorActionExecutor({ connectors: [inventoryConnector({ baseUrl: api.url })] });
  },
  setup: () => ({
    ok: { payload: { connectorId: 'inventory', actionId: 'getItem', input: { sku: 'ABC-1' } }, secret: API_KEY },
    slow: { payload: { connectorId: 'inventory', actionId: 'getItem', input: { sku: 'SLOW-1' } }, secret: API_KEY },
    teardown: async () => api?.close(),
  }),
});
// #endregion conformance

describe('inventoryConnector', () => {
  let inventory: Awaited<ReturnType<typeof startInventoryApi>>;
  beforeAll(async () => {
    inventory = await startInventoryApi();
  });
  afterAll(async () => inventory.close());

  const run = (actionId: string, input: unknown, secret?: string) => {
    const logger = capturingLogger();
    const executor = connectorActionExecutor({ connectors: [inventoryConnector({ baseUrl: inventory.url })] });
    const result = executor.execute(
      {
        requestId: 'r1',
        organizationId: 'org1',
        kind: 'connector.action',
        payload: { connectorId: 'inventory', actionId, input },
        timeoutMs: 5_000,
      },
      { signal: new AbortController().signal, logger, secret, deadline: Date.now() + 5_000 },
    );
    return { result, logger };
  };

  it('reads an item and makes a reservation with the secret as bearer token', async () => {
    const get = run('getItem', { sku: 'ABC-1' }, API_KEY);
    expect(await get.result).toEqual({ status: 'succeeded', output: { sku: 'ABC-1', stock: 7 } });
    const reserve = run('reserve', { sku: 'ABC-1', quantity: 3 }, API_KEY);
    expect(await reserve.result).toEqual({ status: 'succeeded', output: { reservationId: 'res-1', quantity: 3 } });
    const post = inventory.seen.find((s) => s.method === 'POST');
    expect(post).toMatchObject({ url: '/items/ABC-1/reservations', authorization: `Bearer ${API_KEY}` });
    expect(get.logger.lines.join('\n') + reserve.logger.lines.join('\n')).not.toContain(API_KEY);
  });

  it('refuses to run without a secret, and maps 404 and bad input to catalogue codes', async () => {
    expect(await run('getItem', { sku: 'ABC-1' }).result).toMatchObject({ status: 'failed', error: { code: 'SECRET_REQUIRED' } });
    expect(await run('getItem', { sku: 'MISSING' }, API_KEY).result).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND' } });
    expect(await run('getItem', { sku: 'lower case' }, API_KEY).result).toMatchObject({
      status: 'failed',
      error: { code: 'INVALID_ACTION_INPUT' },
    });
    expect(await run('delete', { sku: 'ABC-1' }, API_KEY).result).toMatchObject({
      status: 'failed',
      error: { code: 'ACTION_NOT_SUPPORTED:inventory:delete' },
    });
  });
});
