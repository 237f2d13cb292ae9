import {
  type ChannelClientFrame,
  type ChannelServerFrame,
  ChannelClientFrameSchema,
  CloseCode,
  type DispatchAsyncResponse,
  type DispatchResponse,
  type ErrorBody,
  type Logger,
  PROTOCOL_VERSION,
  ROUTES,
  formatZodIssues,
  parseJsonSafe,
} from '@vespid/protocol';
import { errText } from '../core/err-text.js';
import { type InternalCore, type InternalResponse, routeInternal } from './http-adapter.js';

/**
 * The transport under one dispatch channel (the `ws` adapter wraps a WebSocket; unit tests use a fake).
 * The session never touches `ws` directly.
 */
export interface ChannelConnection {
  remoteAddress: string | undefined;
  send(text: string): void;
  /** Bytes accepted by `send` and not yet written to the network. */
  bufferedAmount(): number;
  /** Stops reading frames until `resume()`: the peer's writes back up in TCP and its own buffer. */
  pause(): void;
  resume(): void;
  /** Calls `listener` once when the buffered bytes have been written. */
  onceDrained(listener: () => void): void;
  close(code: number, reason: string): void;
}

export interface ChannelSessionOptions {
  core: InternalCore;
  logger: Logger;
  /** Requests answered concurrently; more are answered `429 RATE_LIMITED` (retryable). */
  maxInFlight: number;
  /** Above this many unsent bytes the session stops reading until the socket drains. */
  highWaterBytes: number;
}

const ROUTE_OF = { dispatch: ROUTES.dispatch, dispatch_async: ROUTES.dispatchAsync } as const;

/**
 * One authenticated dispatch channel: each request frame runs through the internal routes' own code
 * (`routeInternal`, so validation, status, error codes and waiting are those of the HTTP route) and its
 * answer goes back as a frame when it is ready, in any order. A request's AbortSignal fires when the
 * client cancels it or the channel closes, exactly as an HTTP client hanging up.
 */
export class ChannelSession {
  private readonly inflight = new Map<string, AbortController>();
  private draining = false;
  private paused = false;
  private ended = false;

  constructor(
    private readonly conn: ChannelConnection,
    private readonly o: ChannelSessionOptions,
  ) {}

  /** Announces the protocol version and the in-flight bound. */
  open(): void {
    this.send({ type: 'ready', protocol: PROTOCOL_VERSION, maxInFlight: this.o.maxInFlight });
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  receive(data: Buffer | string): void {
    if (this.ended) return;
    const f = this.parse(data);
    if (!f) return;
    if (f.type === 'cancel') {
      this.inflight.get(f.id)?.abort();
      return;
    }
    // A reused id would make two answers indistinguishable: a client bug, not a request error.
    if (this.inflight.has(f.id)) {
      this.violation(`duplicate id ${f.id}`);
      return;
    }
    const refusal = this.draining
      ? { status: 503, code: 'GATEWAY_SHUTDOWN' as const, message: 'gateway is shutting down' }
      : this.inflight.size >= this.o.maxInFlight
        ? {
            status: 429,
            code: 'RATE_LIMITED' as const,
            message: `more than ${this.o.maxInFlight} requests in flight on this dispatch channel`,
          }
        : undefined;
    if (refusal) {
      this.refuse(f.id, refusal.status, { code: refusal.code, message: refusal.message, retryable: true });
      return;
    }
    const ac = new AbortController();
    this.inflight.set(f.id, ac);
    routeInternal(this.o.core, { method: 'POST', url: ROUTE_OF[f.type], body: f.request, signal: ac.signal })
      .then((answer) => {
        // Cancelled or closed: the client no longer waits for this id.
        if (!ac.signal.aborted) this.answer(f.id, f.type, answer);
      })
      .catch((err: unknown) => this.o.logger.error({ err: errText(err) }, 'dispatch channel request failed'))
      .finally(() => {
        this.inflight.delete(f.id);
        if (this.draining && this.inflight.size === 0) this.end(CloseCode.GoingAway, 'gateway shutting down');
      });
  }

  /** The frame, or undefined after closing the channel 4400 for a malformed one. */
  private parse(data: Buffer | string): ChannelClientFrame | undefined {
    let parsed: ReturnType<typeof ChannelClientFrameSchema.safeParse>;
    try {
      parsed = ChannelClientFrameSchema.safeParse(parseJsonSafe(typeof data === 'string' ? data : data.toString('utf8')));
    } catch {
      this.violation('invalid JSON');
      return undefined;
    }
    if (parsed.success) return parsed.data;
    this.violation(`invalid frame: ${formatZodIssues(parsed.error, { max: 2, maxLength: 80 })}`);
    return undefined;
  }

  /**
   * The gateway is closing: tells the client to send new requests elsewhere, answers what is in flight
   * (the dispatcher's shutdown fails waiting dispatches with `GATEWAY_SHUTDOWN`), then closes 1001.
   */
  drain(reason: string): void {
    if (this.draining || this.ended) return;
    this.draining = true;
    this.send({ type: 'drain', reason });
    if (this.inflight.size === 0) this.end(CloseCode.GoingAway, reason);
  }

  /** The transport closed: in-flight requests are withdrawn as an HTTP client hanging up would. */
  closed(): void {
    this.ended = true;
    for (const ac of this.inflight.values()) ac.abort();
    this.inflight.clear();
  }

  private answer(id: string, type: 'dispatch' | 'dispatch_async', r: InternalResponse): void {
    if (r.status >= 400) {
      this.refuse(id, r.status, r.body as ErrorBody);
      return;
    }
    if (type === 'dispatch') this.send({ type: 'result', id, body: r.body as DispatchResponse });
    else this.send({ type: 'accepted', id, status: r.status as 200 | 201 | 202, body: r.body as DispatchAsyncResponse });
  }

  private refuse(id: string, status: number, body: ErrorBody): void {
    this.send({ type: 'error', id, status, body });
  }

  private send(frame: ChannelServerFrame): void {
    if (this.ended) return;
    try {
      this.conn.send(JSON.stringify(frame));
    } catch (err) {
      // The socket is closing: the client sees the close and fails what it still waits for as retryable.
      this.o.logger.debug({ err: errText(err) }, 'dispatch channel answer not sent');
      return;
    }
    // Back-pressure: a client that does not read its answers stops being read from.
    if (!this.paused && this.conn.bufferedAmount() > this.o.highWaterBytes) {
      this.paused = true;
      this.conn.pause();
      this.conn.onceDrained(() => {
        this.paused = false;
        if (!this.ended) this.conn.resume();
      });
    }
  }

  private violation(reason: string): void {
    this.o.logger.warn({ remoteAddress: this.conn.remoteAddress, reason }, 'dispatch channel protocol violation');
    this.end(CloseCode.ProtocolViolation, reason);
  }

  private end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.conn.close(code, reason);
  }
}
