/**
 * OpenTelemetry glue of the gateway: the only file that touches `@opentelemetry/api`, an optional peer
 * loaded (synchronously, by `createRequire`) only when the `tracing` option is on. Off, the factory
 * returns null and the dispatcher's `entry.trace?.…` calls cost one property check: no span work.
 *
 * Spans of one request: `vespid.gateway.receive` (server; continues the caller's `trace`), its
 * children `vespid.gateway.select`, `vespid.gateway.queue` (while it waits for an agent) and
 * `vespid.gateway.send` (whose context goes to the agent in `execute.trace`), and
 * `vespid.gateway.result` (child of send: storing the result). Attributes are ids, kind, outcome and
 * error code only — never payload, secret, output or error messages.
 */
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';
import { type DispatchRequest, type StoredResult, type TraceContext, formatTraceparent, parseTraceparent } from '@vespid/protocol';
import { GatewayError } from './errors.js';

/**
 * The `tracing` option: `true` uses the globally registered tracer provider; `{ tracerProvider }`
 * uses that one. Needs `@opentelemetry/api` installed (an optional peer dependency).
 *
 * @example
 * ```ts
 * createGateway({ authenticator, tracing: true }); // after provider.register() / trace.setGlobalTracerProvider()
 * ```
 */
export type TracingOption = boolean | { tracerProvider?: { getTracer(name: string, version?: string): unknown } };

type Api = typeof Otel;
const PACKAGE = '@opentelemetry/api';

/** Loads `@opentelemetry/api`; a missing package is `OPTIONAL_DEPENDENCY_MISSING` naming it. */
export function loadOtelApi(load: () => unknown = () => createRequire(import.meta.url)(PACKAGE)): Api {
  try {
    return load() as Api;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new GatewayError(
      'OPTIONAL_DEPENDENCY_MISSING',
      `gateway tracing needs the optional peer dependency ${PACKAGE}: install it (npm i ${PACKAGE}) or turn tracing off`,
    );
  }
}

/** Tracing of one request, kept on its in-flight entry. */
export interface RequestTrace {
  /** Ends the receive span with what the caller was answered (`dispatched`, `queued`, `cached`, …). */
  answered(outcome: string, error?: unknown): void;
  /** Starts the select span; call the returned function with the chosen agent (null: none). */
  select(): (agentId: string | null) => void;
  /** The request waits for an agent: opens the queue span (ended by `send` or `result`). */
  queued(position: number): void;
  /** Records the send span; returns its context for `execute.trace` when `propagate` (the agent announced `trace`). */
  send(agentId: string, propagate: boolean): TraceContext | undefined;
  /** Starts the result span (child of send); call the returned function once the result is stored. */
  result(stored: StoredResult): () => void;
}

/** Creates a request's trace. */
export interface GatewayTracing {
  receive(req: DispatchRequest, route: 'dispatch' | 'dispatch_async'): RequestTrace;
}

/** Null when tracing is off (the default): nothing is loaded and no span is made. */
export function createGatewayTracing(option: TracingOption | undefined, load?: () => unknown): GatewayTracing | null {
  if (!option) return null;
  const api = loadOtelApi(load);
  const provider = (typeof option === 'object' && option.tracerProvider) || api.trace.getTracerProvider();
  const tracer = provider.getTracer('@vespid/sdk-gateway') as Otel.Tracer;
  const { SpanKind, SpanStatusCode } = api;

  return {
    receive(req, route) {
      const base = { 'vespid.request_id': req.requestId, 'vespid.organization_id': req.organizationId, 'vespid.kind': req.kind };
      const receive = tracer.startSpan(
        'vespid.gateway.receive',
        { kind: SpanKind.SERVER, attributes: { ...base, 'vespid.route': route } },
        parentContext(api, req.trace),
      );
      const ctx = api.trace.setSpan(api.ROOT_CONTEXT, receive);
      let answered = false;
      let queue: Otel.Span | undefined;
      let sent: Otel.Context | undefined;
      const endQueue = (outcome: string, agentId?: string) => {
        if (!queue) return;
        queue.setAttribute('vespid.outcome', outcome);
        if (agentId) queue.setAttribute('vespid.agent_id', agentId);
        queue.end();
        queue = undefined;
      };
      return {
        answered(outcome, error) {
          if (answered) return;
          answered = true;
          receive.setAttribute('vespid.outcome', outcome);
          failWith(receive, errorCode(error));
          receive.end();
        },
        select() {
          const span = tracer.startSpan('vespid.gateway.select', { attributes: base }, ctx);
          return (agentId) => {
            span.setAttribute('vespid.outcome', agentId ? 'selected' : 'no_agent');
            if (agentId) span.setAttribute('vespid.agent_id', agentId);
            span.end();
          };
        },
        queued(position) {
          queue ??= tracer.startSpan('vespid.gateway.queue', { attributes: { ...base, 'vespid.queue.position': position } }, ctx);
        },
        send(agentId, propagate) {
          endQueue('assigned', agentId);
          const span = tracer.startSpan(
            'vespid.gateway.send',
            { kind: SpanKind.PRODUCER, attributes: { ...base, 'vespid.agent_id': agentId } },
            ctx,
          );
          sent = api.trace.setSpan(api.ROOT_CONTEXT, span);
          span.end();
          return propagate ? traceOf(api, span) : undefined;
        },
        result(stored) {
          endQueue('ended');
          const span = tracer.startSpan(
            'vespid.gateway.result',
            {
              kind: SpanKind.CONSUMER,
              attributes: {
                ...base,
                'vespid.outcome': stored.status,
                ...(stored.agentId ? { 'vespid.agent_id': stored.agentId } : {}),
              },
            },
            sent ?? ctx,
          );
          failWith(span, stored.error?.code);
          return () => span.end();
        },
      };
    },
  };

  function failWith(span: Otel.Span, code: string | undefined): void {
    if (!code) return;
    span.setAttribute('vespid.error_code', code);
    // The code only: an error message may quote request data.
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }
}

function errorCode(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL_ERROR';
}

/** The context a W3C trace context continues (the active one when there is none). */
function parentContext(api: Api, trace: TraceContext | undefined): Otel.Context {
  const ids = trace ? parseTraceparent(trace.traceparent) : null;
  if (!ids || !trace) return api.context.active();
  return api.trace.setSpanContext(api.ROOT_CONTEXT, {
    ...ids,
    isRemote: true,
    ...(trace.tracestate ? { traceState: api.createTraceState(trace.tracestate) } : {}),
  });
}

/** A span's W3C trace context, or undefined for a span that is not sampled into a valid trace. */
function traceOf(api: Api, span: Otel.Span): TraceContext | undefined {
  const sc = span.spanContext();
  if (!api.isSpanContextValid(sc)) return undefined;
  const state = sc.traceState?.serialize();
  return { traceparent: formatTraceparent(sc), ...(state ? { tracestate: state } : {}) };
}
