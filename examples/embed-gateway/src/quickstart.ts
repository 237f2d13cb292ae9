// #region quickstart
import { type Executor, createAgent } from '@vespid/sdk-agent';
import { createDispatchClient } from '@vespid/sdk-dispatch';
import { staticAuthenticator } from '@vespid/sdk-gateway';
import { startFastifyApp } from './fastify.js';

/** 1. Your executor: runs nodes of kind `greet` on the customer's machine. */
const greet: Executor = {
  kind: 'greet',
  async execute(task) {
    const { name } = (task.payload ?? {}) as { name?: unknown };
    if (typeof name !== 'string') return { status: 'failed', error: { code: 'BAD_REQUEST', message: 'payload.name: string required' } };
    return { status: 'succeeded', output: { greeting: `hello, ${name}` } };
  },
};

/**
 * Gateway in Fastify + one agent with a custom executor + one dispatch, in one process. In real
 * life the agent runs in the customer's network and the dispatch comes from your worker.
 *
 * @example
 * ```ts
 * const output = await quickstart({ port: 0 }); // { greeting: 'hello, world' }
 * ```
 */
export async function quickstart(options: { port?: number } = {}): Promise<unknown> {
  // 2. Who may connect: agent tokens look like `<organizationId>.<secret>`.
  const agentToken = 'acme.quickstart-agent-token-change-me-0001';
  const serviceToken = 'quickstart-service-token'; // GATEWAY_SERVICE_TOKEN of your worker
  const authenticator = staticAuthenticator([{ token: agentToken, agentId: 'edge-1', organizationId: 'acme', tags: [] }]);

  // 3. The gateway inside your Fastify app.
  const host = await startFastifyApp({ authenticator, serviceToken, port: options.port ?? 3002 });

  // 4. An agent (normally on the customer's side) dials out to the gateway.
  const agent = createAgent({ gatewayWsUrl: host.wsUrl, agentToken, name: 'edge-1', executors: [greet] });
  const connected = new Promise((resolve) => agent.on('connected', resolve));
  await agent.start();
  await connected;

  // 5. Your worker dispatches a node to the organization's agents and waits for the result.
  const client = createDispatchClient({ gatewayHttpUrl: host.httpUrl, serviceToken });
  try {
    const result = await client.dispatch({
      organizationId: 'acme',
      requestId: 'run-1:greet:0',
      kind: 'greet',
      payload: { name: 'world' },
    });
    return result.output;
  } finally {
    await client.close();
    await agent.close({ timeoutMs: 5_000 });
    await host.close();
  }
}
// #endregion quickstart
