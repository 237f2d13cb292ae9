import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Logger, bearerToken } from '@vespid/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AgentAuthenticator, AuthResult } from '../authenticator.js';
import type { ConnectionHandle, AgentConnection } from '../core/connection.js';
import type { AuthenticatedAgent } from '../authenticator.js';
import { errText } from '../core/err-text.js';
import { turnBatcher } from './turn-batching.js';
import { UpgradeAttachments, fitCloseReason, refuseUpgrade as refuse } from './upgrade.js';

interface Deps {
  authenticator: AgentAuthenticator;
  logger: Logger;
  maxPayloadBytes: number;
  maxPendingUpgrades: number;
  isAccepting: () => boolean;
  isRevoked: (agentId: string) => boolean;
  connect: (connection: AgentConnection, agent: AuthenticatedAgent) => ConnectionHandle;
}

/**
 * The `ws` transport: authenticates before upgrading (401/403/503 with a JSON body), then wraps the
 * WebSocket in an AgentConnection for the core. No permessage-deflate (it costs ~30× throughput on
 * small frames) and an explicit maxPayload (bigger frames close with 1009).
 */
export class WsAdapter {
  private readonly wss: WebSocketServer;
  private pending = 0;
  private readonly attachments = new UpgradeAttachments((req, socket, head) => this.handleUpgrade(req, socket, head));

  constructor(private readonly deps: Deps) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: deps.maxPayloadBytes,
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { logger } = this.deps;
    const remoteAddress = req.socket?.remoteAddress;
    socket.on('error', (err) => logger.debug({ remoteAddress, err: errText(err) }, 'upgrade socket error'));
    if (!this.deps.isAccepting()) {
      refuse(socket, 503, 'GATEWAY_SHUTDOWN', 'gateway is shutting down');
      return;
    }
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      logger.info({ remoteAddress }, 'agent upgrade without bearer token refused');
      refuse(socket, 401, 'UNAUTHORIZED', 'missing agent token (Authorization: Bearer <agentToken>)');
      return;
    }
    // Bound concurrent authentications so a flood of upgrades cannot pile up control-plane lookups.
    if (this.pending >= this.deps.maxPendingUpgrades) {
      logger.warn({ remoteAddress, pending: this.pending }, 'too many pending upgrades');
      refuse(socket, 503, 'RATE_LIMITED', 'too many pending connections, retry later');
      return;
    }
    this.pending++;
    let auth: Promise<AuthResult>;
    try {
      auth = this.deps.authenticator.authenticate(token, { remoteAddress });
    } catch (err) {
      auth = Promise.reject(err);
    }
    auth
      .then(
        (result) => this.upgrade(req, socket, head, result),
        (err: unknown) => {
          logger.error({ remoteAddress, err: errText(err) }, 'agent authentication failed');
          refuse(socket, 503, 'GATEWAY_UNAVAILABLE', 'agent authentication is unavailable, retry later');
        },
      )
      .catch((err: unknown) => {
        // Never an unhandled rejection: a bad upgrade must not take the process down.
        logger.error({ remoteAddress, err: errText(err) }, 'agent upgrade failed');
        socket.destroy();
      })
      .finally(() => {
        this.pending--;
      });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, result: AuthResult): void {
    const { logger } = this.deps;
    const remoteAddress = req.socket?.remoteAddress;
    if (socket.destroyed) return;
    if (!result.ok) {
      logger.info({ remoteAddress, reason: result.reason }, 'agent token refused');
      if (result.reason === 'revoked') {
        refuse(socket, 403, 'AGENT_REVOKED', 'agent has been revoked');
        return;
      }
      if (result.reason === 'expired') {
        refuse(
          socket,
          401,
          'AGENT_TOKEN_EXPIRED',
          'the agent token was rotated and its overlap window has ended; pair the agent again (vespid-agent connect --pairing-token <token> --replace)',
        );
        return;
      }
      refuse(socket, 401, 'UNAUTHORIZED', 'invalid agent token');
      return;
    }
    if (this.deps.isRevoked(result.agent.agentId)) {
      refuse(socket, 403, 'AGENT_REVOKED', 'agent has been revoked');
      return;
    }
    if (!this.deps.isAccepting()) {
      refuse(socket, 503, 'GATEWAY_SHUTDOWN', 'gateway is shutting down');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // execute, execute_ack, pong… of one loop turn leave in one syscall instead of one each.
      const hold = turnBatcher(socket);
      const connection: AgentConnection = {
        remoteAddress,
        send: (text) => {
          // Once the agent's close frame arrived, ws drops frames silently: refuse them so the dispatch
          // fails now (AGENT_DISCONNECTED) instead of waiting on an agent that is gone.
          if (ws.readyState !== ws.OPEN) throw new Error('agent socket is closing');
          hold();
          ws.send(text);
        },
        close: (code, reason) => ws.close(code, fitCloseReason(reason)),
        terminate: () => ws.terminate(),
      };
      const handle = this.deps.connect(connection, result.agent);
      ws.on('message', (data, isBinary) => handle.receive(isBinary ? { binary: true } : data));
      ws.on('error', (err) => logger.warn({ agentId: result.agent.agentId, err: errText(err) }, 'agent socket error'));
      ws.on('close', (code) => handle.closed(code));
    });
  }

  /** Listens to `upgrade` on `server` for `path` only; other paths are left to other listeners. */
  attach(server: Server, path: string): () => void {
    return this.attachments.attach(server, path);
  }

  /** Stops listening on every attached server. The servers themselves belong to the host. */
  detachAll(): void {
    this.attachments.detachAll();
  }
}
