// #region express
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createGateway } from '@vespid/sdk-gateway';
import express from 'express';
import type { EmbedOptions, EmbeddedGateway } from './types.js';

/**
 * The gateway inside an Express app that has routes of its own. `gateway.httpHandler` is a
 * `(req, res, next)` middleware: it answers `/internal/v1/*` (using `req.body` when `express.json()`
 * ran first) and calls `next()` for everything else. Upgrades go to `attach` on the app's server.
 *
 * @example
 * ```ts
 * const host = await startExpressApp({ authenticator, serviceToken, port: 3002 });
 * ```
 */
export async function startExpressApp(options: EmbedOptions): Promise<EmbeddedGateway> {
  const gateway = createGateway({
    authenticator: options.authenticator,
    serviceToken: options.serviceToken,
    ...(options.selection ? { selection: options.selection } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await gateway.start(); // at once here; with a `cluster` it subscribes first and rejects if it cannot
  const app = express();
  app.use(express.json({ limit: '2mb' }));
  app.use(gateway.httpHandler);
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, agents: gateway.listSessions().length });
  });

  const server = app.listen(options.port ?? 3002, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  gateway.attach(server, { path: '/ws' });
  const { port } = server.address() as AddressInfo;
  return {
    gateway,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async close() {
      await gateway.close({ timeoutMs: 5_000 });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
// #endregion express
