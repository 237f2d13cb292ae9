import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthenticatedAgent, type StaticAgentEntry, staticAuthenticator } from '../authenticator.js';
import { type Gateway, createGateway } from '../gateway.js';
import type { GatewayOptions } from '../options.js';
import { type TestAgent, type TestAgentOptions, connectTestAgent } from './ws-test-agent.js';

/**
 * A gateway on a node:http server at 127.0.0.1:0, with helpers to add agents and call routes.
 * @example
 * ```ts
 * const t: TestGateway = await startTestGateway();
 * await t.close();
 * ```
 */
export interface TestGateway {
  gateway: Gateway;
  server: Server;
  httpUrl: string;
  wsUrl: string;
  serviceToken: string;
  auth: ReturnType<typeof staticAuthenticator>;
  /** Registers an agent with the authenticator and connects it (token generated). */
  agent(agent: AuthenticatedAgent, options?: Omit<TestAgentOptions, 'url' | 'token'>): Promise<TestAgent & { token: string }>;
  /** POST/GET a route with the service token; returns status and parsed JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: test helper; tests read arbitrary JSON fields
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

let tokenSeq = 0;

/**
 * Starts a gateway for tests. `close()` closes the gateway, every agent and the server.
 *
 * @example
 * ```ts
 * const t = await startTestGateway({ selection: 'round_robin' });
 * const a = await t.agent({ agentId: 'a', organizationId: 'org1', tags: [] });
 * ```
 */
export async function startTestGateway(options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const auth = staticAuthenticator([]);
  const serviceToken = `svc-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const gateway = createGateway({ authenticator: auth, serviceToken, ...options });
  await gateway.start();
  const server = createServer(gateway.httpHandler);
  gateway.attach(server, { path: '/ws' });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agents: TestAgent[] = [];
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    gateway,
    server,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    serviceToken,
    auth,
    async agent(agent, agentOptions = {}) {
      const token = `${agent.organizationId}.tok${String(++tokenSeq).padStart(20, '0')}`;
      auth.set({ ...agent, token } as StaticAgentEntry);
      const a = await connectTestAgent({ url: `ws://127.0.0.1:${port}/ws`, token, ...agentOptions });
      agents.push(a);
      return Object.assign(a, { token });
    },
    async call(method, path, body, token = serviceToken) {
      const res = await fetch(`${httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await Promise.all(agents.map((a) => a.close()));
      await gateway.close({ timeoutMs: 2000 });
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
