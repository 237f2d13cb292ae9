import type { ErrorCode } from '@vespid/protocol';
import { type Dispatcher, request } from 'undici';
import type { DestinationPolicy } from '../destination-policy.js';
import { AgentError } from '../errors.js';
import { guardedDispatcher } from '../guarded-dispatcher.js';

/** A response read with a byte cap. */
export interface CappedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Options of {@link requestCapped}. */
export interface CappedRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string | undefined;
  maxBytes: number;
  timeoutMs: number;
  signal: AbortSignal;
  dispatcher?: Dispatcher | undefined;
  /** Error code for network failures (`HTTP_REQUEST_FAILED`, `GITHUB_API_ERROR`, …). */
  failureCode: ErrorCode;
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * One HTTP request with a timeout and a response size cap. The caller's signal (task abort) is
 * rethrown as-is so the runtime can tell cancel/timeout/shutdown apart; our own timeout becomes a
 * `failureCode` error. Bytes beyond the cap are never buffered: the stream is destroyed.
 */
export async function requestCapped(url: string, opts: CappedRequest): Promise<CappedResponse> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  try {
    const res = await request(url, {
      method: opts.method as Dispatcher.HttpMethod,
      headers: opts.headers,
      body: opts.body,
      signal,
      dispatcher: opts.dispatcher,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > opts.maxBytes) {
        res.body.destroy();
        throw new AgentError('HTTP_RESPONSE_TOO_LARGE', `response body exceeded ${opts.maxBytes} bytes`, {
          details: { maxBytes: opts.maxBytes },
        });
      }
      chunks.push(chunk as Buffer);
    }
    return { status: res.statusCode, headers: flatten(res.headers), body: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason ?? err;
    if (err instanceof AgentError) throw err;
    const host = safeHost(url);
    if (timeout.aborted)
      throw new AgentError(opts.failureCode, `request to ${host} timed out after ${opts.timeoutMs} ms`, { retryable: true });
    const code = (err as { code?: string }).code;
    throw new AgentError(opts.failureCode, `request to ${host} failed${code ? ` (${code})` : ''}`, { retryable: true, cause: err });
  }
}

/**
 * The dispatcher a connector uses: a {@link guardedDispatcher} when a destination policy is set, else
 * the caller's (or undici's global one). Both at once would let the caller's dispatcher bypass the
 * policy, so that is a configuration error.
 */
export function connectorDispatcher(
  connectorId: string,
  dispatcher: Dispatcher | undefined,
  destinations: DestinationPolicy | undefined,
): Dispatcher | undefined {
  if (!destinations) return dispatcher;
  if (dispatcher) {
    throw new AgentError('AGENT_CONFIG_INVALID', `${connectorId} connector: pass either dispatcher or destinations, not both`);
  }
  return guardedDispatcher({ policy: destinations });
}

/** Host only: full URLs can carry credentials in userinfo or query strings. */
function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}
