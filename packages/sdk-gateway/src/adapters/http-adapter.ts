import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type CancelResponse,
  CancelRequestSchema,
  type DispatchAsyncResponse,
  type DispatchResponse,
  type ErrorBody,
  type ErrorCode,
  ExplainRequestSchema,
  type ExplainResponse,
  type KnownFields,
  type LiveSessionsResponse,
  type Logger,
  OrganizationIdSchema,
  ROUTES,
  RequestIdSchema,
  type ResultResponse,
  type StoredResult,
  VespidError,
  bearerToken,
  parseJsonSafe,
  formatZodIssues,
} from '@vespid/protocol';
import type { z } from 'zod';
import type { Explanation } from '../selection/candidates.js';
import { errText } from '../core/err-text.js';
import { validateDispatchRequest } from '../dispatch-request.js';
import { serviceTokenMatches } from './service-token.js';
import type { DispatchAsyncOutcome, QueueInfo, SessionInfo } from '../gateway-types.js';

/**
 * A framework-neutral internal HTTP request.
 * @example
 * ```ts
 * await gateway.handleInternalRequest({ method: 'GET', url: '/internal/v1/results/r1:n:0', authorization: `Bearer ${token}`, body: undefined });
 * ```
 */
export interface InternalRequest {
  method: string;
  /** Path, optionally with a query string. */
  url: string;
  /** The `Authorization` header value. */
  authorization: string | string[] | undefined;
  /** Parsed JSON body (or undefined). */
  body: unknown;
  /** Aborted when the client goes away: a synchronous dispatch still queued is then withdrawn. */
  signal?: AbortSignal;
}

/**
 * A framework-neutral response: status and JSON body.
 * @example
 * ```ts
 * const { status, body }: InternalResponse = await gateway.handleInternalRequest(req);
 * ```
 */
export interface InternalResponse {
  status: number;
  body: unknown;
}

/** What the internal routes (HTTP and the dispatch channel) need from the gateway. */
export interface InternalCore {
  serviceToken: string | undefined;
  logger: Logger;
  dispatch(request: unknown, options?: { signal?: AbortSignal }): Promise<StoredResult>;
  dispatchAsync(request: unknown): Promise<DispatchAsyncOutcome>;
  getResult(requestId: string): Promise<StoredResult | null>;
  explain(request: unknown): Explanation & { queue: QueueInfo };
  listSessions(): SessionInfo[];
  cancelQueued(requestId: string, organizationId?: string): boolean;
}

const error = (status: number, code: ErrorCode, message: string): InternalResponse => ({
  status,
  body: { code, message } satisfies ErrorBody,
});

const issues = (err: z.ZodError): string => formatZodIssues(err, { root: '(body)' });

/** Authenticates and routes one internal request. Never throws: every failure becomes `{code, message}`. */
export async function handleInternal(core: InternalCore, req: InternalRequest): Promise<InternalResponse> {
  // Constant-time compare; a gateway without a service token refuses every internal call.
  if (!serviceTokenMatches(core.serviceToken, bearerToken(req.authorization))) {
    return error(401, 'UNAUTHORIZED', 'missing or invalid service token');
  }
  return routeInternal(core, req);
}

/**
 * Routes one request already authenticated (by its own header, or by the dispatch channel's upgrade).
 * Never throws. The one place the internal routes are implemented, so a channel frame gets exactly
 * the route's validation, status and body.
 */
export async function routeInternal(core: InternalCore, req: Omit<InternalRequest, 'authorization'>): Promise<InternalResponse> {
  const q = req.url.indexOf('?');
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const method = req.method.toUpperCase();
  try {
    if (path === ROUTES.dispatch || path === ROUTES.dispatchAsync || path === ROUTES.explain) {
      if (method !== 'POST') return error(405, 'BAD_REQUEST', `${path} accepts POST only`);
      if (path === ROUTES.explain) {
        const parsed = ExplainRequestSchema.safeParse(req.body);
        if (!parsed.success) return error(400, 'BAD_REQUEST', `invalid explain request: ${issues(parsed.error)}`);
        return { status: 200, body: core.explain(parsed.data) satisfies KnownFields<ExplainResponse> };
      }
      // Marked as validated: the gateway's dispatch() takes it as is instead of parsing it again.
      const parsed = validateDispatchRequest(req.body);
      if (!parsed.success) return error(400, 'BAD_REQUEST', `invalid dispatch request: ${issues(parsed.error)}`);
      if (path === ROUTES.dispatch) {
        const r = await core.dispatch(parsed.data, req.signal ? { signal: req.signal } : {});
        return {
          status: 200,
          body: {
            requestId: r.requestId,
            status: r.status,
            ...(r.output !== undefined ? { output: r.output } : {}),
            ...(r.error !== undefined ? { error: r.error } : {}),
          } satisfies DispatchResponse,
        };
      }
      const a = await core.dispatchAsync(parsed.data);
      if (a.dispatched) return { status: 201, body: a satisfies DispatchAsyncResponse };
      if ('queued' in a)
        return {
          status: 202,
          body: {
            requestId: a.requestId,
            dispatched: false,
            queued: true,
            position: a.position,
            explanation: a.explanation,
          } satisfies KnownFields<DispatchAsyncResponse>,
        };
      return {
        status: 200,
        body: ('cached' in a ? { requestId: a.requestId, dispatched: false, cached: true } : a) satisfies DispatchAsyncResponse,
      };
    }
    if (path === ROUTES.cancel) {
      if (method !== 'POST') return error(405, 'BAD_REQUEST', `${path} accepts POST only`);
      const parsed = CancelRequestSchema.safeParse(req.body);
      if (!parsed.success) return error(400, 'BAD_REQUEST', `invalid cancel request: ${issues(parsed.error)}`);
      const cancelled = core.cancelQueued(parsed.data.requestId, parsed.data.organizationId);
      return { status: 200, body: { requestId: parsed.data.requestId, cancelled } satisfies CancelResponse };
    }
    if (path === ROUTES.sessions) {
      // Live sessions of one organization (what the control plane shows as "in flight now").
      if (method !== 'GET') return error(405, 'BAD_REQUEST', `${path} accepts GET only`);
      const org = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1)).get('organizationId');
      if (!org || !OrganizationIdSchema.safeParse(org).success)
        return error(400, 'BAD_REQUEST', 'organizationId query parameter is required');
      return {
        status: 200,
        body: { sessions: core.listSessions().filter((s) => s.organizationId === org) } satisfies LiveSessionsResponse,
      };
    }
    if (path.startsWith(`${ROUTES.results}/`)) {
      if (method !== 'GET') return error(405, 'BAD_REQUEST', `${ROUTES.results}/:requestId accepts GET only`);
      let id: string;
      try {
        id = decodeURIComponent(path.slice(ROUTES.results.length + 1));
      } catch {
        return error(400, 'BAD_REQUEST', 'invalid requestId encoding');
      }
      if (!RequestIdSchema.safeParse(id).success) return error(400, 'BAD_REQUEST', 'invalid requestId');
      const r = await core.getResult(id);
      return r ? { status: 200, body: r satisfies ResultResponse } : error(404, 'RESULT_NOT_READY', `no result stored for ${id} yet`);
    }
    return error(404, 'NOT_FOUND', `no route ${method} ${path}`);
  } catch (err) {
    if (VespidError.is(err)) return { status: err.httpStatus, body: err.toJSON() };
    core.logger.error({ path, err: errText(err) }, 'internal route failed');
    return error(500, 'INTERNAL_ERROR', 'internal error');
  }
}

function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new VespidError('BAD_REQUEST', `body larger than ${maxBytes} bytes`, { httpStatus: 413 }));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > maxBytes) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(parseJsonSafe(text));
      } catch {
        reject(new VespidError('BAD_REQUEST', 'body is not valid JSON'));
      }
    });
  });
}

/**
 * A `(req, res, next?)` handler for node:http, Express (and connect-style) and Fastify's raw
 * request/response. Requests outside `/internal/v1/` go to `next()` when given, else 404. A body
 * already parsed by the framework (`req.body`) is used as is.
 */
export function createHttpHandler(core: InternalCore, maxBodyBytes: number) {
  return (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const url = req.url ?? '/';
    if (!url.startsWith('/internal/v1/')) {
      if (next) {
        next();
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: 'not found' }));
      return;
    }
    const body = req.body !== undefined || req.method === 'GET' ? Promise.resolve(req.body) : readJson(req, maxBodyBytes);
    // A client that hangs up before its answer stops waiting (a queued synchronous dispatch leaves the queue).
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    body
      .then(
        (parsed) =>
          handleInternal(core, {
            method: req.method ?? 'GET',
            url,
            authorization: req.headers.authorization,
            body: parsed,
            signal: gone.signal,
          }),
        (err: unknown): InternalResponse =>
          VespidError.is(err)
            ? { status: err.httpStatus, body: { code: err.code, message: err.message } }
            : error(400, 'BAD_REQUEST', 'unreadable body'),
      )
      .then((r) => {
        if (res.headersSent || res.writableEnded) return;
        const text = JSON.stringify(r.body);
        res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      })
      .catch((err: unknown) => {
        core.logger.error({ url, err: errText(err) }, 'could not answer internal request');
        if (!res.writableEnded) res.destroy();
      });
  };
}
