import { ErrorBodySchema, isErrorCode } from '@vespid/protocol';
import { Pool } from 'undici';
import { DispatchError } from '../errors.js';
import type { ResolvedDispatchClientOptions } from './options.js';

/** One JSON answer from the gateway. `body` is `undefined` when it was not valid JSON. */
export interface HttpAnswer {
  status: number;
  body: unknown;
}

interface CallOptions {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

// Errors undici raises when the gateway cannot be reached or the connection breaks mid-call.
const TRANSPORT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/**
 * A keep-alive HTTP transport to one gateway. It owns the undici pool, adds the bearer token, bounds
 * response size and turns transport failures into catalogue errors.
 */
export class GatewayHttp {
  readonly #pool: Pool;
  readonly #opts: ResolvedDispatchClientOptions;

  constructor(opts: ResolvedDispatchClientOptions) {
    this.#opts = opts;
    this.#pool = new Pool(opts.origin, { connections: opts.connections, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  async call(call: CallOptions): Promise<HttpAnswer> {
    const route = `${call.method} ${call.path}`;
    try {
      const res = await this.#pool.request({
        method: call.method,
        path: `${this.#opts.basePath}${call.path}`,
        headers: {
          authorization: `Bearer ${this.#opts.serviceToken}`,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: call.body === undefined ? null : JSON.stringify(call.body),
        signal: call.signal ?? null,
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      });
      const text = await this.#readCapped(res.body, route);
      let body: unknown;
      try {
        body = text.length ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, body };
    } catch (err) {
      throw this.#transportError(err, route, call.signal);
    }
  }

  async close(): Promise<void> {
    if (!this.#pool.closed) await this.#pool.close();
  }

  async destroy(): Promise<void> {
    if (!this.#pool.destroyed) await this.#pool.destroy();
  }

  async #readCapped(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, route: string): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size > this.#opts.maxResponseBytes) {
        body.destroy();
        throw new DispatchError('GATEWAY_RESPONSE_INVALID', `${route}: response larger than ${this.#opts.maxResponseBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  #transportError(err: unknown, route: string, signal: AbortSignal | undefined): DispatchError {
    if (DispatchError.is(err)) return err as DispatchError;
    if (signal?.aborted) return new DispatchError('TASK_CANCELLED', `${route}: aborted by the caller`, { cause: err });
    const code = String((err as { code?: unknown })?.code ?? '');
    const detail = TRANSPORT_CODES.has(code) ? code : 'transport error';
    return new DispatchError('GATEWAY_UNAVAILABLE', `${route}: gateway at ${this.#opts.origin} unreachable (${detail})`, {
      cause: err,
      retryable: true,
    });
  }

  /** Maps a non-success answer to the gateway's own `{code, message}`, or to a catalogue code when it has none. */
  errorFrom(answer: HttpAnswer, route: string): DispatchError {
    const parsed = ErrorBodySchema.safeParse(answer.body);
    if (parsed.success) {
      const message = this.scrub(parsed.data.message);
      const { code } = parsed.data;
      // A code this worker's catalogue lacks (a newer gateway) is a version mismatch; the code stays in the message.
      if (!isErrorCode(code)) {
        return new DispatchError('GATEWAY_RESPONSE_INVALID', `${route}: ${code}: ${message}`, {
          httpStatus: answer.status,
          ...(parsed.data.retryable === undefined ? {} : { retryable: parsed.data.retryable }),
        });
      }
      return new DispatchError(code, `${route}: ${message}`, {
        httpStatus: answer.status,
        ...(parsed.data.retryable === undefined ? {} : { retryable: parsed.data.retryable }),
        ...(parsed.data.details ? { details: parsed.data.details } : {}),
      });
    }
    // A bare 502/503/504 comes from a proxy or a gateway that is not ready: retry later.
    if (answer.status >= 502 && answer.status <= 504) {
      return new DispatchError('GATEWAY_UNAVAILABLE', `${route}: HTTP ${answer.status} without an error body`, { retryable: true });
    }
    return new DispatchError('GATEWAY_RESPONSE_INVALID', `${route}: unexpected HTTP ${answer.status} without a protocol error body`);
  }

  /** Defence in depth: a server that echoes the token back must not make it reach our logs. */
  scrub(text: string): string {
    return text.split(this.#opts.serviceToken).join('***');
  }
}
