import { ChannelDrainSchema, ChannelReadySchema, type DispatchRequest, ROUTES } from '@vespid/protocol';
import WebSocket from 'ws';
import { DispatchError } from '../errors.js';
import type { HttpAnswer } from './http.js';
import type { ResolvedDispatchClientOptions } from './options.js';

/** Above this many unsent bytes new requests take HTTP instead of queueing behind the socket. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** A gateway without the channel (404/405/426, an older version) is asked again after this long. */
const UNSUPPORTED_RETRY_MS = 5 * 60_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 30_000;

/**
 * Where the dispatch channel stands: `open` carries dispatches; `idle` (not opened yet: the first call
 * opens it), `connecting`, `draining` (the gateway is closing), `down` (waiting for the
 * backoff) and `closed` send them over HTTP.
 *
 * @example
 * ```ts
 * if (client.channelState !== 'open') log.info({ channel: client.channelState }, 'dispatching over HTTP for now');
 * ```
 */
export type ChannelState = 'idle' | 'connecting' | 'open' | 'draining' | 'down' | 'closed';
type State = ChannelState;

interface Pending {
  settle(answer: HttpAnswer | DispatchError): void;
}

/** What {@link DispatchChannel.request} needs besides the request: the route name for messages and the call's bounds. */
export interface ChannelCall {
  route: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * The persistent WebSocket from the dispatch client to the gateway's `/internal/v1/channel`: opened
 * lazily, one at a time, multiplexing every dispatch of the client with a correlation id. It answers
 * each request with the `{status, body}` the HTTP route would have returned, so the client's answer
 * handling is the same for both. When it cannot carry a request — never opened, reconnecting after a
 * drop (exponential backoff), draining, unsupported by the gateway, over the gateway's in-flight bound
 * or its own send buffer — `request` resolves `undefined` and the caller uses HTTP. A request in flight
 * when the socket drops fails with retryable `GATEWAY_UNAVAILABLE`, as a broken HTTP connection does:
 * the channel never resends it (the caller's retry, by request id, is idempotent at the gateway).
 */
export class DispatchChannel {
  #state: State = 'idle';
  #ws: WebSocket | undefined;
  #pending = new Map<string, Pending>();
  #nextId = 0;
  #maxInFlight = Number.POSITIVE_INFINITY;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;
  readonly #opts: ResolvedDispatchClientOptions;
  readonly #scrub: (text: string) => string;
  readonly #url: string;

  constructor(opts: ResolvedDispatchClientOptions, scrub: (text: string) => string) {
    this.#opts = opts;
    this.#scrub = scrub;
    this.#url = `${opts.origin.replace(/^http/, 'ws')}${opts.basePath}${ROUTES.channel}`;
  }

  /** `open` while requests go over the channel; anything else means HTTP for now. */
  get state(): State {
    return this.#state;
  }

  /**
   * Sends `request` as a `type` frame and resolves its answer, or `undefined`: use HTTP. The first call
   * opens the channel but does not wait for it: a server that never answers the upgrade (one that
   * serves the HTTP routes but routes no upgrade for this path) must not stall a dispatch.
   */
  async request(type: 'dispatch' | 'dispatch_async', request: DispatchRequest, call: ChannelCall): Promise<HttpAnswer | undefined> {
    if (this.#state === 'idle') this.#connect();
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws || ws.readyState !== WebSocket.OPEN) return undefined;
    if (this.#pending.size >= this.#maxInFlight || ws.bufferedAmount > HIGH_WATER_BYTES) return undefined;
    if (call.signal?.aborted) throw new DispatchError('TASK_CANCELLED', `${call.route}: aborted by the caller`);
    const id = String(++this.#nextId);
    return new Promise<HttpAnswer>((resolve, reject) => {
      const onAbort = () => {
        // Like an HTTP client hanging up: the gateway withdraws a dispatch still waiting in its queue.
        this.#send({ type: 'cancel', id });
        settle(new DispatchError('TASK_CANCELLED', `${call.route}: aborted by the caller`));
      };
      const timer = setTimeout(() => {
        this.#send({ type: 'cancel', id });
        settle(
          new DispatchError(
            'GATEWAY_UNAVAILABLE',
            `${call.route}: no answer on the dispatch channel to ${this.#opts.origin} within ${call.timeoutMs} ms`,
            {
              retryable: true,
            },
          ),
        );
      }, call.timeoutMs);
      const settle = (answer: HttpAnswer | DispatchError) => {
        if (!this.#pending.delete(id)) return;
        clearTimeout(timer);
        call.signal?.removeEventListener('abort', onAbort);
        if (answer instanceof DispatchError) reject(answer);
        else resolve(answer);
      };
      this.#pending.set(id, { settle });
      call.signal?.addEventListener('abort', onAbort, { once: true });
      ws.send(JSON.stringify({ type, id, request }));
    });
  }

  /** Closes the socket once nothing is in flight (or at once with `force`); no reconnect after it. */
  close(force = false): Promise<void> {
    this.#state = 'closed';
    clearTimeout(this.#retry);
    const ws = this.#ws;
    if (!ws) return Promise.resolve();
    this.#closed ??= new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (force) ws.terminate();
    else if (this.#pending.size === 0) ws.close(1000, 'client closing');
    return this.#closed;
  }

  #connect(): void {
    this.#state = 'connecting';
    let status: number | undefined;
    const ws = new WebSocket(this.#url, {
      headers: { authorization: `Bearer ${this.#opts.serviceToken}` },
      perMessageDeflate: false,
      maxPayload: this.#opts.maxResponseBytes,
      handshakeTimeout: Math.min(this.#opts.requestTimeoutMs, 10_000),
      followRedirects: false,
    });
    this.#ws = ws;
    ws.on('message', (data) => this.#receive(ws, data as Buffer));
    ws.on('error', (err) => {
      // ws reports a refused upgrade as "Unexpected server response: <status>"; never the headers.
      const m = /Unexpected server response: (\d+)/.exec(err.message);
      if (m) status = Number(m[1]);
      this.#opts.logger.debug({ url: this.#url, err: this.#scrub(err.message) }, 'dispatch channel error');
    });
    ws.on('close', (code) => this.#down(ws, code, status));
  }

  #receive(ws: WebSocket, data: Buffer): void {
    let frame: { type?: unknown; id?: unknown; status?: unknown; body?: unknown };
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      frame = {};
    }
    if (this.#state === 'connecting' && frame.type === 'ready') {
      const ready = ChannelReadySchema.safeParse(frame);
      if (!ready.success) {
        this.#violation(ws, 'invalid ready frame');
        return;
      }
      this.#maxInFlight = ready.data.maxInFlight;
      this.#failures = 0;
      this.#state = 'open';
      this.#opts.logger.debug({ url: this.#url, maxInFlight: this.#maxInFlight }, 'dispatch channel open');
      return;
    }
    if (frame.type === 'drain' && ChannelDrainSchema.safeParse(frame).success) {
      // In-flight requests are still answered; new ones take HTTP until a new channel is open.
      if (this.#state === 'open') this.#state = 'draining';
      return;
    }
    // The body is validated by the caller with the route's own schema, as an HTTP body is.
    const status = frame.type === 'result' ? 200 : typeof frame.status === 'number' ? frame.status : 0;
    if ((frame.type === 'result' || frame.type === 'accepted' || frame.type === 'error') && typeof frame.id === 'string' && status) {
      this.#pending.get(frame.id)?.settle({ status, body: frame.body });
      if (this.#state === 'closed' && this.#pending.size === 0) ws.close(1000, 'client closing');
      return;
    }
    this.#violation(ws, 'invalid frame');
  }

  #violation(ws: WebSocket, reason: string): void {
    this.#opts.logger.warn({ url: this.#url, reason }, 'dispatch channel: the gateway sent a frame that is not protocol v1');
    ws.close(4400, reason);
  }

  #down(ws: WebSocket, code: number, status: number | undefined): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    const err = new DispatchError(
      'GATEWAY_UNAVAILABLE',
      `dispatch channel to ${this.#opts.origin} closed before the answer (close code ${code}); the request may have run: retry it with the same request id`,
      { retryable: true },
    );
    for (const p of [...this.#pending.values()]) p.settle(err);
    const wasOpen = this.#state === 'open' || this.#state === 'draining';
    if (this.#state === 'closed') return;
    this.#state = 'down';
    const unsupported = status === 404 || status === 405 || status === 426;
    const delay = unsupported
      ? UNSUPPORTED_RETRY_MS
      : Math.floor(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.#failures++, 20)) * (0.5 + Math.random() / 2));
    this.#opts.logger.info(
      { url: this.#url, code, ...(status ? { status } : {}), wasOpen, retryInMs: delay },
      unsupported ? 'the gateway has no dispatch channel: using HTTP' : 'dispatch channel down: using HTTP until it reconnects',
    );
    // Reconnects on its own (a client opens the channel on its first call only, so it is in use).
    this.#retry = setTimeout(() => {
      if (this.#state === 'down') this.#connect();
    }, delay);
    this.#retry.unref();
  }

  #send(frame: object): void {
    const ws = this.#ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }
}
