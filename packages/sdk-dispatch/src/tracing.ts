/**
 * OpenTelemetry glue of sdk-dispatch: the only file that touches `@opentelemetry/api`, an optional peer
 * loaded only when a `tracing` option is on. Off: the factory returns null, nothing is loaded and no
 * span is made; a request carries no `trace` unless its caller put one there.
 *
 * Spans: the client's `vespid.dispatch` (client kind; its W3C context goes to the gateway in the request
 * body's `trace`), and the runner's `vespid.continuation.block` (cursor + dispatch; its context is kept
 * in the cursor) with its later child `vespid.continuation.apply` (the result applied by `onResult`),
 * so the continuation joins the trace of its dispatch even in another process. Attributes are ids,
 * kind, outcome and error code — never payload, secret, output or token.
 */
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';
import { type TraceContext, formatTraceparent, parseTraceparent } from '@vespid/protocol';
import { DispatchError } from './errors.js';

/**
 * The `tracing` option of the client and the runner: `true` uses the globally registered tracer
 * provider; `{ tracerProvider }` uses that one. Needs `@opentelemetry/api` (an optional peer dependency).
 *
 * @example
 * ```ts
 * createDispatchClient({ gatewayHttpUrl, serviceToken, tracing: true });
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
    throw new DispatchError(
      'OPTIONAL_DEPENDENCY_MISSING',
      `dispatch tracing needs the optional peer dependency ${PACKAGE}: install it (npm i ${PACKAGE}) or turn tracing off`,
      { retryable: false },
    );
  }
}

/** Span attributes: identifiers only. */
export interface SpanFacts {
  requestId: string;
  organizationId: string;
  kind: string;
  runId?: string | undefined;
  nodeId?: string | undefined;
}

/** An open span: its W3C context (undefined when not sampled into a valid trace) and how to end it. */
export interface OpenSpan {
  trace: TraceContext | undefined;
  end(outcome: string, error?: unknown, extra?: Record<string, string | number | boolean>): void;
}

/** The spans sdk-dispatch makes. */
export interface DispatchTracing {
  /** A span named `name` with `parent` as parent (the active context when absent). */
  start(name: 'vespid.dispatch' | 'vespid.continuation.block', facts: SpanFacts, parent?: TraceContext): OpenSpan;
  /** Runs `fn` inside `vespid.continuation.apply` (child of the block span's `parent`). */
  apply<T>(facts: SpanFacts, parent: TraceContext | undefined, fn: (span: OpenSpan) => Promise<T>): Promise<T>;
}

/** Null when tracing is off (the default): nothing is loaded and no span is made. */
export function createDispatchTracing(option: TracingOption | undefined, load?: () => unknown): DispatchTracing | null {
  if (!option) return null;
  const api = loadOtelApi(load);
  const provider = (typeof option === 'object' && option.tracerProvider) || api.trace.getTracerProvider();
  const tracer = provider.getTracer('@vespid/sdk-dispatch') as Otel.Tracer;

  const attributes = (f: SpanFacts): Otel.Attributes => ({
    'vespid.request_id': f.requestId,
    'vespid.organization_id': f.organizationId,
    'vespid.kind': f.kind,
    ...(f.runId ? { 'vespid.run_id': f.runId } : {}),
    ...(f.nodeId ? { 'vespid.node_id': f.nodeId } : {}),
  });

  const open = (name: string, kind: Otel.SpanKind, facts: SpanFacts, parent: TraceContext | undefined): OpenSpan => {
    const span = tracer.startSpan(name, { kind, attributes: attributes(facts) }, parentContext(api, parent));
    let ended = false;
    return {
      trace: traceOf(api, span),
      end(outcome, error, extra) {
        if (ended) return;
        ended = true;
        span.setAttribute('vespid.outcome', outcome);
        if (extra) span.setAttributes(extra);
        const code = errorCode(error);
        if (code) {
          span.setAttribute('vespid.error_code', code);
          // The code only: an error message may quote request data.
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: code });
        }
        span.end();
      },
    };
  };

  return {
    start(name, facts, parent) {
      return open(name, name === 'vespid.dispatch' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL, facts, parent);
    },
    async apply(facts, parent, fn) {
      const span = open('vespid.continuation.apply', api.SpanKind.INTERNAL, facts, parent);
      try {
        return await fn(span);
      } catch (err) {
        span.end('error', err);
        throw err;
      }
    },
  };
}

function errorCode(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'INTERNAL_ERROR';
}

function parentContext(api: Api, trace: TraceContext | undefined): Otel.Context {
  const ids = trace ? parseTraceparent(trace.traceparent) : null;
  if (!ids || !trace) return api.context.active();
  return api.trace.setSpanContext(api.ROOT_CONTEXT, {
    ...ids,
    isRemote: true,
    ...(trace.tracestate ? { traceState: api.createTraceState(trace.tracestate) } : {}),
  });
}

function traceOf(api: Api, span: Otel.Span): TraceContext | undefined {
  const sc = span.spanContext();
  if (!api.isSpanContextValid(sc)) return undefined;
  const state = sc.traceState?.serialize();
  return { traceparent: formatTraceparent(sc), ...(state ? { tracestate: state } : {}) };
}
