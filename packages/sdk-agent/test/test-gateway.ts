import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, StoredResult } from '@vespid/protocol';
import { createGateway, type Gateway, memoryResultStore, type ResultStore, type staticAuthenticator } from '@vespid/sdk-gateway';

/** A result store that counts writes per request, to prove a result is stored exactly once. */
export function countingStore(): ResultStore & { puts: Map<string, number> } {
  const inner = memoryResultStore({ ttlSec: 900 });
  const puts = new Map<string, number>();
  return {
    ...inner,
    puts,
    async put(result: StoredResult) {
      puts.set(result.requestId, (puts.get(result.requestId) ?? 0) + 1);
      return inner.put(result);
    },
  };
}

/** The real gateway (`createGateway`) on a node:http server at 127.0.0.1 (port 0 unless given). Test-only. */
export async function startRealGateway(options: {
  auth: ReturnType<typeof staticAuthenticator>;
  store?: ResultStore;
  port?: number;
  staleMs?: number;
  logger?: Logger;
}): Promise<{ gateway: Gateway; server: Server; port: number; wsUrl: string; close(): Promise<void> }> {
  const gateway = createGateway({
    authenticator: options.auth,
    serviceToken: `svc-${Math.random().toString(36).slice(2)}`,
    ...(options.store ? { resultStore: options.store } : {}),
    ...(options.staleMs ? { staleMs: options.staleMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const server = createServer(gateway.httpHandler);
  gateway.attach(server, { path: '/ws' });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  return {
    gateway,
    server,
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async close() {
      if (closed) return;
      closed = true;
      await gateway.close({ timeoutMs: 1000 });
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
