import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Writes a JSON HTTP error on a raw upgrade socket and closes it. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  // Already answered by another listener of the same server.
  if (socket.destroyed || socket.writableEnded) return;
  const body = JSON.stringify({ code, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // end() flushes the response; destroy soon after so a client that keeps the socket open cannot hold it.
  setTimeout(() => socket.destroy(), 1000).unref();
}

// A close frame carries at most 123 bytes of reason; ws throws on more, which turned a protocol
// violation with a long reason into a dropped connection (1006) instead of its close code.
export function fitCloseReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  let r = reason.slice(0, 123);
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The `upgrade` listeners one adapter added to host servers, each for one path only (other paths are
 * left to other listeners: the agent `/ws` and the dispatch channel share a server in single-port mode).
 */
export class UpgradeAttachments {
  private readonly attached = new Map<Server, UpgradeHandler>();

  constructor(private readonly handle: UpgradeHandler) {}

  has(server: Server): boolean {
    return this.attached.has(server);
  }

  attach(server: Server, path: string): () => void {
    if (this.attached.has(server)) return () => this.detach(server);
    const listener: UpgradeHandler = (req, socket, head) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      if ((q === -1 ? url : url.slice(0, q)) !== path) return;
      this.handle(req, socket, head);
    };
    server.on('upgrade', listener);
    this.attached.set(server, listener);
    return () => this.detach(server);
  }

  detach(server: Server): void {
    const listener = this.attached.get(server);
    if (listener) server.off('upgrade', listener);
    this.attached.delete(server);
  }

  /** Stops listening on every attached server. The servers themselves belong to the host. */
  detachAll(): void {
    for (const server of [...this.attached.keys()]) this.detach(server);
  }
}
