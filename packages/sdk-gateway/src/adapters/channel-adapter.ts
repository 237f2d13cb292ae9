import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Logger, bearerToken } from '@vespid/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { errText } from '../core/err-text.js';
import { ChannelSession } from './channel-session.js';
import type { InternalCore } from './http-adapter.js';
import { serviceTokenMatches } from './service-token.js';
import { UpgradeAttachments, fitCloseReason, refuseUpgrade } from './upgrade.js';

interface Deps {
  core: InternalCore;
  logger: Logger;
  /** Largest frame accepted (the internal routes' body limit). */
  maxPayloadBytes: number;
  maxInFlight: number;
  highWaterBytes: number;
  isAccepting: () => boolean;
}

/**
 * The `ws` transport of the internal dispatch channel: checks the service token before upgrading (401
 * with a JSON body otherwise, the token never echoed), then runs a {@link ChannelSession} per socket.
 * Served only on the servers the host attaches it to, i.e. its internal listener.
 */
export class ChannelAdapter {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<ChannelSession, WebSocket>();
  private readonly emptied = new Set<() => void>();
  private readonly attachments = new UpgradeAttachments((req, socket, head) => this.handleUpgrade(req, socket, head));

  constructor(private readonly deps: Deps) {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: deps.maxPayloadBytes });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { logger } = this.deps;
    const remoteAddress = req.socket?.remoteAddress;
    socket.on('error', (err) => logger.debug({ remoteAddress, err: errText(err) }, 'channel upgrade socket error'));
    if (!serviceTokenMatches(this.deps.core.serviceToken, bearerToken(req.headers.authorization))) {
      logger.info({ remoteAddress }, 'dispatch channel upgrade with a missing or invalid service token refused');
      refuseUpgrade(socket, 401, 'UNAUTHORIZED', 'missing or invalid service token');
      return;
    }
    if (!this.deps.isAccepting()) {
      refuseUpgrade(socket, 503, 'GATEWAY_SHUTDOWN', 'gateway is shutting down');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => this.run(ws, socket, remoteAddress));
  }

  private run(ws: WebSocket, socket: Duplex, remoteAddress: string | undefined): void {
    const { logger } = this.deps;
    const session = new ChannelSession(
      {
        remoteAddress,
        send: (text) => {
          if (ws.readyState !== ws.OPEN) throw new Error('channel socket is closing');
          ws.send(text);
        },
        bufferedAmount: () => ws.bufferedAmount,
        pause: () => ws.pause(),
        resume: () => ws.resume(),
        onceDrained: (listener) => socket.once('drain', listener),
        close: (code, reason) => ws.close(code, fitCloseReason(reason)),
      },
      { core: this.deps.core, logger, maxInFlight: this.deps.maxInFlight, highWaterBytes: this.deps.highWaterBytes },
    );
    this.sessions.set(session, ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) session.receive('binary');
      else session.receive(data as Buffer);
    });
    ws.on('error', (err) => logger.warn({ remoteAddress, err: errText(err) }, 'dispatch channel socket error'));
    ws.on('close', (code) => {
      logger.debug({ remoteAddress, code }, 'dispatch channel closed');
      session.closed();
      this.sessions.delete(session);
      if (this.sessions.size === 0) for (const done of [...this.emptied]) done();
    });
    logger.debug({ remoteAddress }, 'dispatch channel open');
    session.open();
  }

  /** Listens to `upgrade` on `server` for `path` only. */
  attach(server: Server, path: string): () => void {
    return this.attachments.attach(server, path);
  }

  /**
   * On a server where the channel is not attached, answers its upgrades 404 at once: every dispatch
   * client asks for the channel, and an upgrade nobody answers would stall until the client's handshake
   * timeout and hold the host's `server.close()` open meanwhile. The client then uses HTTP.
   */
  refuseWhereNotAttached(server: Server, path: string): () => void {
    const listener = (req: IncomingMessage, socket: Duplex) => {
      if ((req.url ?? '/').split('?')[0] !== path || this.attachments.has(server)) return;
      socket.on('error', () => socket.destroy());
      refuseUpgrade(socket, 404, 'NOT_FOUND', 'no dispatch channel on this listener: use the HTTP routes');
    };
    server.on('upgrade', listener);
    return () => server.off('upgrade', listener);
  }

  /**
   * Drains every channel (in-flight requests are answered, then 1001) and resolves when all are
   * closed or `timeoutMs` passed; what is still open then is terminated (its client fails those
   * requests as retryable `GATEWAY_UNAVAILABLE`, as a broken HTTP connection).
   */
  async close(reason: string, timeoutMs: number): Promise<void> {
    // Still attached: a client reconnecting after the drain is refused 503 at once. Detached, its
    // upgrade would hang until the client's handshake timeout and hold up the host's server.close().
    for (const s of this.sessions.keys()) s.drain(reason);
    if (this.sessions.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      let done: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        done = resolve;
        this.emptied.add(resolve);
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      if (done) this.emptied.delete(done);
    }
    for (const ws of [...this.sessions.values()]) ws.terminate();
  }
}
