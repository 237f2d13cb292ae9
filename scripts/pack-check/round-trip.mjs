// ESM consumer of the packed tarballs: a gateway on node:http, an agent with a custom executor and a
// dispatch over the internal HTTP API, all from the published entry points. Exits non-zero on failure.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { ERROR_CODES, PROTOCOL_VERSION, generateToken } from '@vespid/protocol';
import { createAgent } from '@vespid/sdk-agent';
import { dockerSandboxExecutor } from '@vespid/sdk-agent/docker';
import { createDispatchClient } from '@vespid/sdk-dispatch';
import { postgresCursorStore } from '@vespid/sdk-dispatch/postgres';
import { createGateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { redisResultStore } from '@vespid/sdk-gateway/redis';

for (const fn of [dockerSandboxExecutor, postgresCursorStore, redisResultStore]) assert.equal(typeof fn, 'function');
assert.equal(PROTOCOL_VERSION, 1);
assert.ok(ERROR_CODES.length > 10);

const agentToken = generateToken('acme');
const serviceToken = 'pack-check-service-token';
const gateway = createGateway({
  authenticator: staticAuthenticator([{ token: agentToken, agentId: 'edge-1', organizationId: 'acme', tags: [] }]),
  serviceToken,
});
const server = createServer(gateway.httpHandler);
gateway.attach(server, { path: '/ws' });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

const agent = createAgent({
  gatewayWsUrl: `ws://127.0.0.1:${port}/ws`,
  agentToken,
  name: 'pack-check',
  executors: [{ kind: 'pack.echo', execute: async (task) => ({ status: 'succeeded', output: { echo: task.payload, format: 'esm' } }) }],
});
const connected = new Promise((resolve) => agent.on('connected', resolve));
await agent.start();
await connected;

const client = createDispatchClient({ gatewayHttpUrl: `http://127.0.0.1:${port}`, serviceToken });
try {
  const result = await client.dispatch({ organizationId: 'acme', requestId: 'pack:esm:0', kind: 'pack.echo', payload: { n: 1 } });
  assert.deepEqual(result.output, { echo: { n: 1 }, format: 'esm' });
  process.stdout.write(`esm round trip ok: ${JSON.stringify(result.output)}\n`);
} finally {
  await client.close();
  await agent.close({ timeoutMs: 2000 });
  await gateway.close({ timeoutMs: 2000 });
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
