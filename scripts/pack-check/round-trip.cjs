'use strict';
// CommonJS consumer of the packed tarballs: a gateway on node:http, an agent with a custom executor and a
// dispatch over the internal HTTP API, all from the published entry points. Exits non-zero on failure.
const assert = require('node:assert/strict');
const { createServer } = require('node:http');
const { ERROR_CODES, PROTOCOL_VERSION, generateToken } = require('@vespid/protocol');
const { createAgent } = require('@vespid/sdk-agent');
const { dockerSandboxExecutor } = require('@vespid/sdk-agent/docker');
const { createDispatchClient } = require('@vespid/sdk-dispatch');
const { postgresCursorStore } = require('@vespid/sdk-dispatch/postgres');
const { createGateway, staticAuthenticator } = require('@vespid/sdk-gateway');
const { redisResultStore } = require('@vespid/sdk-gateway/redis');

async function main() {
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
    executors: [{ kind: 'pack.echo', execute: async (task) => ({ status: 'succeeded', output: { echo: task.payload, format: 'cjs' } }) }],
  });
  const connected = new Promise((resolve) => agent.on('connected', resolve));
  await agent.start();
  await connected;

  const client = createDispatchClient({ gatewayHttpUrl: `http://127.0.0.1:${port}`, serviceToken });
  try {
    const result = await client.dispatch({ organizationId: 'acme', requestId: 'pack:cjs:0', kind: 'pack.echo', payload: { n: 1 } });
    assert.deepEqual(result.output, { echo: { n: 1 }, format: 'cjs' });
    process.stdout.write(`cjs round trip ok: ${JSON.stringify(result.output)}\n`);
  } finally {
    await client.close();
    await agent.close({ timeoutMs: 2000 });
    await gateway.close({ timeoutMs: 2000 });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
