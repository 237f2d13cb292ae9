// #region node-http
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway } from '@vespid/sdk-gateway';
import type { EmbedOptions, EmbeddedGateway } from './types.js';

/**
 * The gateway in a plain node:http server: `httpHandler` answers `/internal/v1/*` (404 elsewhere),
 * `attach` takes the WebSocket upgrades on `/ws` and leaves other upgrade paths alone.
 *
 * @example
 * ```ts
 * const host = await startNodeHttpGateway({ authenticator, serviceToken, port: 3002 });
 * ```
 */
export async function startNodeHttpGateway(options: EmbedOptions): Promise<EmbeddedGateway> {
  const gateway = createGateway({
    authenticator: options.authenticator,
    serviceToken: options.serviceToken,
    ...(options.selection ? { selection: options.selection } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // Typed observational events, like the agent's `on()`: identities and codes, never payloads or secrets.
  gateway.on('agent.connected', ({ agentId, agentVersion }) => options.logger?.info({ agentId, agentVersion }, 'agent connected'));
  await gateway.start(); // at once here; with a `cluster` it subscribes first and rejects if it cannot
  const server = createServer(gateway.httpHandler);
  gateway.attach(server, { path: '/ws' });
  server.listen(options.port ?? 3002, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    gateway,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async close() {
      await gateway.close({ timeoutMs: 5_000 }); // never closes your server: that stays your call
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
// #endregion node-http
