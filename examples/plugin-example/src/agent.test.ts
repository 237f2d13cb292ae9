import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestGateway, startTestGateway } from '@vespid/sdk-gateway/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createPluginAgent } from './agent.js';

describe('createPluginAgent against a real gateway', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('receives example.hash and inventory connector.action nodes and returns their results', async () => {
    const inventory = createServer((req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ url: req.url })));
    inventory.listen(0, '127.0.0.1');
    await once(inventory, 'listening');
    cleanups.push(async () => void (await new Promise((r) => inventory.close(r))));

    const t: TestGateway = await startTestGateway();
    cleanups.push(() => t.close());
    const agentToken = 'org-plugin.tok-plugin-example-0000000001';
    t.auth.set({ token: agentToken, agentId: 'agent-plugin', organizationId: 'org-plugin', tags: [] });

    const agent = createPluginAgent({
      gatewayWsUrl: t.wsUrl,
      agentToken,
      inventoryBaseUrl: `http://127.0.0.1:${(inventory.address() as AddressInfo).port}`,
    });
    cleanups.push(() => agent.close({ timeoutMs: 2_000 }));
    const connected = new Promise((resolve) => agent.on('connected', resolve));
    await agent.start();
    await connected;

    const hash = await t.gateway.dispatch({
      organizationId: 'org-plugin',
      requestId: 'run1:hash:0',
      kind: 'example.hash',
      payload: { text: 'hi' },
    });
    expect(hash).toMatchObject({ status: 'succeeded', agentId: 'agent-plugin', output: { algorithm: 'sha256', rounds: 1 } });

    const item = await t.gateway.dispatch({
      organizationId: 'org-plugin',
      requestId: 'run1:item:0',
      kind: 'connector.action',
      payload: { connectorId: 'inventory', actionId: 'getItem', input: { sku: 'ABC-1' } },
      secret: 'inventory-api-key',
    });
    expect(item).toMatchObject({ status: 'succeeded', output: { url: '/items/ABC-1' } });
    expect(JSON.stringify(item)).not.toContain('inventory-api-key');

    // A kind no executor declared is never routed to this agent.
    await expect(
      t.gateway.dispatch({ organizationId: 'org-plugin', requestId: 'run1:x:0', kind: 'agent.execute', payload: {} }),
    ).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE' });
  });
});
