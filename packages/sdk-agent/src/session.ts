import {
  AGENT_FEATURES,
  type AgentMessage,
  CloseCode,
  closeCodeName,
  encodeMessage,
  FATAL_CLOSE_CODES,
  type GatewayMessage,
  type HelloAck,
  type Logger,
  parseGatewayMessage,
  parseJsonSafe,
} from '@vespid/protocol';
import WebSocket from 'ws';
import { AgentAuthError } from './errors.js';
import type { Network } from './network.js';
import { turnBatcher } from './turn-batching.js';

/** How a session ended. */
export interface SessionEnd {
  /** WebSocket close code, or 0 when the socket never opened. */
  code: number;
  reason: string;
  /** Whether `hello_ack` was received (the session was usable). */
  established: boolean;
  /** Set when the credentials were refused: stop, do not retry. */
  fatal?: AgentAuthError;
}

/** Everything one session needs from the agent. */
export interface SessionParams {
  url: string;
  token: string;
  hello: Extract<AgentMessage, { type: 'hello' }>;
  network: Network;
  logger: Logger;
  maxPayloadBytes: number;
  connectTimeoutMs: number;
  /** Overrides the gateway's `heartbeatMs`. */
  heartbeatMs?: number | undefined;
  /** How many heartbeat intervals without a pong mean the gateway is dead. */
  missedPongs: number;
  onReady(ack: HelloAck, session: Session): void;
  onMessage(message: Exclude<GatewayMessage, { type: 'hello_ack' | 'pong' }>, session: Session): void;
}

/**
 * One WebSocket session: upgrade with the bearer token, `hello`, heartbeat, frame validation.
 * `run()` resolves (never rejects) when the session is over, saying whether to retry.
 */
export class Session {
  readonly #p: SessionParams;
  #ws: WebSocket | undefined;
  #ready = false;
  /** Corks the socket for the rest of this loop turn (execute_received + execute_result… in one write). */
  #hold: () => void = () => {};
  /** The gateway takes a result as its receipt (`receipt_in_result` echoed in `hello_ack`). */
  #receiptInResult = false;
  /** Receipts deferred to the end of this loop turn; a result sent first replaces its receipt. */
  readonly #receipts = new Set<string>();

  constructor(params: SessionParams) {
    this.#p = params;
  }

  get ready(): boolean {
    return this.#ready && this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sends a frame if the session is ready; returns whether it was handed to the socket. */
  send(message: AgentMessage): boolean {
    if (!this.ready || !this.#ws) return false;
    if (message.type === 'execute_result') this.#receipts.delete(message.requestId);
    this.#hold();
    this.#ws.send(encodeMessage(message));
    return true;
  }

  /**
   * Confirms an `execute` (`execute_received`: from now on this agent resends its result after a
   * reconnect). When the gateway takes a result as the receipt, the confirmation waits until the end of
   * this loop turn (a `setImmediate`, the moment corked frames are flushed anyway) and is dropped if the
   * task's result was sent meanwhile: a task finished within the turn costs one frame instead of two.
   * A task still running then is confirmed as before, so a disconnect later behaves as it always did.
   */
  confirm(requestId: string): void {
    if (!this.#receiptInResult) {
      this.send({ type: 'execute_received', requestId });
      return;
    }
    if (this.#receipts.size === 0) setImmediate(() => this.#flushReceipts());
    this.#receipts.add(requestId);
  }

  #flushReceipts(): void {
    const ids = [...this.#receipts];
    this.#receipts.clear();
    for (const requestId of ids) this.send({ type: 'execute_received', requestId });
  }

  /** Closes the socket (normal closure by default). */
  close(code: number = 1000, reason = 'agent closing'): void {
    const ws = this.#ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  }

  run(): Promise<SessionEnd> {
    const p = this.#p;
    return new Promise<SessionEnd>((resolve) => {
      let settled = false;
      let heartbeat: NodeJS.Timeout | undefined;
      let lastPongAt = Date.now();
      let lastError = '';
      const finish = (end: SessionEnd) => {
        if (settled) return;
        settled = true;
        this.#ready = false;
        clearTimeout(helloTimer);
        if (heartbeat) clearInterval(heartbeat);
        resolve(end);
      };
      const ws = new WebSocket(p.url, {
        headers: { authorization: `Bearer ${p.token}` },
        handshakeTimeout: p.connectTimeoutMs,
        maxPayload: p.maxPayloadBytes,
        perMessageDeflate: false,
        followRedirects: false,
        ...p.network.wsOptions(p.url),
      });
      this.#ws = ws;
      // Until hello_ack arrives the session is not usable; a silent gateway is treated as down.
      const helloTimer = setTimeout(() => {
        p.logger.warn({ timeoutMs: p.connectTimeoutMs }, 'no hello_ack from gateway in time');
        ws.terminate();
      }, p.connectTimeoutMs);

      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 4096) chunks.push(c);
        });
        const done = () => {
          const body = describeBody(Buffer.concat(chunks).toString('utf8'));
          ws.terminate();
          if (status === 401 || status === 403) {
            const expired = status === 401 && body.startsWith('AGENT_TOKEN_EXPIRED');
            const code = status === 403 ? 'AGENT_REVOKED' : expired ? 'AGENT_TOKEN_EXPIRED' : 'UNAUTHORIZED';
            const what =
              status === 403
                ? 'the agent has been revoked'
                : expired
                  ? 'the agent token was rotated and its overlap window has ended'
                  : 'the agent token was rejected';
            finish({
              code: 0,
              reason: `HTTP ${status}`,
              established: false,
              fatal: new AgentAuthError(
                code,
                `gateway refused the connection (HTTP ${status}): ${what}${body ? ` — ${body}` : ''}; pair the agent again`,
                status,
              ),
            });
          } else {
            finish({ code: 0, reason: `HTTP ${status}${body ? `: ${body}` : ''}`, established: false });
          }
        };
        res.on('end', done);
        res.on('error', done);
      });
      ws.on('upgrade', (res) => {
        this.#hold = turnBatcher(res.socket);
      });
      ws.on('open', () => {
        ws.send(encodeMessage(p.hello));
      });
      ws.on('message', (data, isBinary) => {
        const parsed = parseGatewayMessage(isBinary ? data : data.toString(), p.maxPayloadBytes);
        if (!parsed.ok) {
          p.logger.warn({ reason: parsed.error.reason }, 'invalid frame from gateway; closing session');
          ws.close(parsed.error.closeCode, parsed.error.reason.slice(0, 120));
          return;
        }
        const msg = parsed.message;
        if (msg.type === 'pong') {
          lastPongAt = Date.now();
          return;
        }
        if (msg.type === 'hello_ack') {
          if (this.#ready) return;
          clearTimeout(helloTimer);
          this.#ready = true;
          this.#receiptInResult = msg.features?.includes(AGENT_FEATURES.receiptInResult) === true;
          lastPongAt = Date.now();
          const every = p.heartbeatMs ?? msg.heartbeatMs;
          heartbeat = setInterval(() => {
            if (Date.now() - lastPongAt > every * p.missedPongs) {
              p.logger.warn({ heartbeatMs: every, missedPongs: p.missedPongs }, 'gateway stopped answering pings; reconnecting');
              ws.terminate();
              return;
            }
            if (ws.readyState === WebSocket.OPEN) {
              this.#hold();
              ws.send(encodeMessage({ type: 'ping', ts: Date.now() }));
            }
          }, every);
          heartbeat.unref?.();
          p.onReady(msg, this);
          return;
        }
        if (!this.#ready) {
          ws.close(CloseCode.ProtocolViolation, `${msg.type} before hello_ack`);
          return;
        }
        p.onMessage(msg, this);
      });
      ws.on('error', (err) => {
        // Network errors end in 'close'; the message never contains the token.
        p.logger.debug({ err: err.message }, 'gateway socket error');
        lastError = err.message;
        if (ws.readyState === WebSocket.CLOSED) finish({ code: 0, reason: err.message, established: this.#ready });
      });
      ws.on('close', (code, reasonBuf) => {
        // 1006 carries no reason; the preceding socket error (TLS, ECONNREFUSED) says why.
        const reason = reasonBuf.toString('utf8') || lastError;
        const established = this.#ready;
        if (FATAL_CLOSE_CODES.has(code)) {
          const revoked = code === CloseCode.Revoked;
          finish({
            code,
            reason,
            established,
            fatal: new AgentAuthError(
              revoked ? 'AGENT_REVOKED' : 'UNAUTHORIZED',
              `gateway closed the session with ${code} ${closeCodeName(code)}${reason ? ` (${reason})` : ''}: ${revoked ? 'the agent has been revoked' : 'the agent token is no longer valid'}; pair the agent again`,
              code,
            ),
          });
          return;
        }
        finish({ code, reason, established });
      });
    });
  }
}

/** `hello` plus the `receipt_in_result` feature, which every session implements ({@link Session.confirm}). */
export function withReceiptInResult(hello: SessionParams['hello']): SessionParams['hello'] {
  const features = hello.capabilities.features ?? [];
  if (features.includes(AGENT_FEATURES.receiptInResult)) return hello;
  return { ...hello, capabilities: { ...hello.capabilities, features: [...features, AGENT_FEATURES.receiptInResult] } };
}

/** `{code, message}` bodies become "CODE: message"; anything else is cut short. */
function describeBody(text: string): string {
  if (!text) return '';
  try {
    const v = parseJsonSafe(text) as { code?: unknown; message?: unknown };
    if (v && typeof v.code === 'string') return `${v.code}${typeof v.message === 'string' ? `: ${v.message.slice(0, 200)}` : ''}`;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
