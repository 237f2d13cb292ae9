/**
 * Small HTTP helpers shared by the routes: zod parsing into `{code, message}` errors, uuid checks, the
 * error handler that turns anything thrown into the catalogue's JSON body, and the `no-store` default.
 */
import { formatZodIssues, zodIssueSummaries } from '@vespid/protocol';
import type { ErrorCode, Logger } from '@vespid/protocol';
import { VespidError } from '@vespid/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError } from './errors.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a canonical UUID (ids of every table). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

/** Parses `value` or throws `code` (400) listing the issues in the message and `details.issues`. */
export function parseOr<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: ErrorCode = 'BAD_REQUEST',
  what = 'request body',
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Paths and messages only (never inputs): a request body may carry a secret value.
  throw new ApiError(code, `invalid ${what}: ${formatZodIssues(parsed.error, { max: 10 })}`, {
    httpStatus: 400,
    details: { issues: zodIssueSummaries(parsed.error) },
  });
}

/** A uuid path parameter; anything else is simply not found (ids are never guessed into a 500). */
export function idParam(params: unknown, name: string, what: string): string {
  const value = (params as Record<string, unknown> | undefined)?.[name];
  if (!isUuid(value)) throw new ApiError('NOT_FOUND', `${what} not found`);
  return value.toLowerCase();
}

/**
 * `onSend` hook: `Cache-Control: no-store` on every response that does not choose its own policy.
 * Pairing, agent, access and invitation tokens travel in API bodies; a browser cache or a shared proxy
 * must keep none of them, and marking everything is simpler (and safer) than listing which do.
 *
 * @example
 * ```ts
 * app.addHook('onSend', noStore);
 * ```
 */
export async function noStore(_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  return payload;
}

/** Fastify error handler: every error leaves as `{code, message, …}` with a catalogue code. */
export function errorHandler(logger: Logger) {
  return (err: FastifyError | VespidError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (VespidError.is(err)) {
      const e = err as VespidError;
      if (e.httpStatus >= 500) logger.error({ err, reqId: request.id, code: e.code }, 'request failed');
      return reply.status(e.httpStatus).send(e.toJSON());
    }
    const status = (err as FastifyError).statusCode;
    if (status === 429) {
      return reply.status(429).send({ code: 'RATE_LIMITED', message: err.message || 'too many requests', retryable: true });
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, body too large, wrong content type).
      return reply.status(status).send({ code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', message: err.message, retryable: false });
    }
    const sqlState = (err as { code?: unknown }).code;
    if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
      // Postgres "data exception" (a NUL byte in text, a value out of range): the client's input, not a
      // server fault. It answered 500 before; the message names the SQLSTATE only, never the value.
      return reply.status(400).send({
        code: 'BAD_REQUEST',
        message: `the request contains a value that cannot be stored (SQLSTATE ${sqlState})`,
        retryable: false,
      });
    }
    logger.error({ err, reqId: request.id }, 'unexpected error');
    return reply.status(500).send({ code: 'INTERNAL_ERROR', message: 'internal error', retryable: true });
  };
}
