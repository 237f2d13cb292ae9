// #region fastify
import type { AddressInfo } from 'node:net';
import { createGateway } from '@vespid/sdk-gateway';
import Fastify from 'fastify';
import type { EmbedOptions, EmbeddedGateway } from './types.js';

/**
 * The gateway inside a Fastify app. Fastify parses bodies itself, so the internal routes go through
 * the framework-neutral `handleInternalRequest`; WebSocket upgrades on `/ws` are taken from
 * `app.server` by `attach` (no Fastify websocket plugin needed).
 *
 * @example
 * ```ts
 * const host = await startFastifyApp({ authenticator, serviceToken, port: 3002 });
 * ```
 */
export async function startFastifyApp(options: EmbedOptions): Promise<EmbeddedGateway> {
  const gateway = createGateway({
    authenticator: options.authenticator,
    serviceToken: options.serviceToken,
    ...(options.selection ? { selection: options.selection } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await gateway.start(); // at once here; with a `cluster` it subscribes first and rejects if it cannot
  const app = Fastify({ bodyLimit: 2 * 1024 * 1024 });

  app.all('/internal/v1/*', async (request, reply) => {
    const response = await gateway.handleInternalRequest({
      method: request.method,
      url: request.url,
      authorization: request.headers.authorization,
      body: request.body,
    });
    return reply.code(response.status).send(response.body);
  });
  app.get('/healthz', async () => ({ ok: true, agents: gateway.listSessions().length }));
  gateway.attach(app.server, { path: '/ws' });
  // preClose runs before Fastify waits for open connections: agents get `drain` and hang up first.
  app.addHook('preClose', async () => gateway.close({ timeoutMs: 5_000 }));

  await app.listen({ port: options.port ?? 3002, host: options.host ?? '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    gateway,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    close: () => app.close(),
  };
}
// #endregion fastify
