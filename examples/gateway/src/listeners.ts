/**
 * The gateway host's HTTP listeners, one per trust zone. The public one carries what agents need
 * (`/ws`, plus `/healthz` and `/readyz` for a load balancer); the internal one carries the dispatch API
 * (`/internal/*`) and `/metrics`, which only the worker, the api and Prometheus should reach. With
 * `GATEWAY_INTERNAL_PORT` unset both live on `GATEWAY_PORT`, as the runbook has it.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** What each listener answers. */
export interface ListenerRoutes {
  /** `/healthz` and `/readyz` (both listeners). */
  health: Handler;
  /** `/metrics` (internal listener). */
  metrics: Handler;
  /** Everything else of the internal API (`/internal/*`), including its own 404s. */
  internal: Handler;
}

/** Where to listen. */
export interface ListenerAddresses {
  host: string;
  port: number;
  /** Separate internal listener; undefined keeps one listener for everything. */
  internal?: { host: string; port: number } | undefined;
}

/** The bound listeners. `internal` is the same server as `public` in single-port mode. */
export interface GatewayListeners {
  public: Server;
  internal: Server;
  /** `http://host:port` of each listener (wildcard hosts shown as 127.0.0.1). */
  publicUrl: string;
  internalUrl: string;
  /** Stops both listeners, forcing open connections after `forceAfterMs`. */
  close(forceAfterMs: number): Promise<void>;
}

const notFound: Handler = (_req, res) => {
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: 'not found' }));
};

const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0];

function serve(handler: Handler): Server {
  const server = createServer(handler);
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${bound}`;
}

function closeServer(server: Server, forceAfterMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => server.closeAllConnections(), forceAfterMs);
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Answers a WebSocket upgrade on any path but `served` with 404 (and `hint`) and closes the socket. The
 * gateway's own upgrade listeners leave other paths alone (an embedding server may own them); in this
 * host nothing else does, and without this answer an agent pointed at a wrong `GATEWAY_WS_URL` path
 * would hang.
 */
export function refuseOtherUpgrades(server: Server, served: readonly string[], hint: string): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const path = pathOf(req) ?? '/';
    // Served here, or already answered (the gateway refuses its channel path where it is not attached).
    if (served.includes(path) || socket.writableEnded) return;
    const body = JSON.stringify({ code: 'NOT_FOUND', message: `no WebSocket endpoint at ${path}: ${hint}` });
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/**
 * Creates and binds the listeners. `beforeListen` runs on the public server before it accepts
 * connections (the host attaches the WebSocket upgrade there).
 *
 * @example
 * ```ts
 * const l = await startListeners({ host: '0.0.0.0', port: 3002, internal: { host: '10.0.0.5', port: 3003 } }, routes, (s) => gateway.attach(s));
 * ```
 */
export async function startListeners(
  addresses: ListenerAddresses,
  routes: ListenerRoutes,
  beforeListen: (publicServer: Server) => void,
): Promise<GatewayListeners> {
  const split = addresses.internal !== undefined;
  const internalHandler: Handler = (req, res) => {
    const path = pathOf(req);
    if (path === '/healthz' || path === '/readyz') routes.health(req, res);
    else if (path === '/metrics') routes.metrics(req, res);
    else routes.internal(req, res);
  };
  // Split mode: the public listener knows nothing of the internal API or metrics, not even that they exist.
  const publicHandler: Handler = split
    ? (req, res) => {
        const path = pathOf(req);
        if (path === '/healthz' || path === '/readyz') routes.health(req, res);
        else notFound(req, res);
      }
    : internalHandler;
  const publicServer = serve(publicHandler);
  beforeListen(publicServer);
  const publicUrl = await listen(publicServer, addresses.port, addresses.host);
  let internalServer = publicServer;
  let internalUrl = publicUrl;
  if (addresses.internal) {
    internalServer = serve(internalHandler);
    try {
      internalUrl = await listen(internalServer, addresses.internal.port, addresses.internal.host);
    } catch (err) {
      await closeServer(publicServer, 0);
      throw err;
    }
  }
  return {
    public: publicServer,
    internal: internalServer,
    publicUrl,
    internalUrl,
    async close(forceAfterMs) {
      await Promise.all([closeServer(publicServer, forceAfterMs), ...(split ? [closeServer(internalServer, forceAfterMs)] : [])]);
    },
  };
}
