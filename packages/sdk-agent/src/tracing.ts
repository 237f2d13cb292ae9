/**
 * OpenTelemetry glue of the agent: the only file that touches `@opentelemetry/api`, an optional peer
 * loaded only when the `tracing` option is on (and then the agent announces the `trace` feature in
 * `hello`, so the gateway sends `execute.trace`). Off: no load, no span, no feature.
 *
 * Spans of one task: `vespid.agent.execute` (consumer; continues the gateway's send span from
 * `execute.trace`; accepted → result reported) and its child `vespid.agent.executor` around
 * `executor.execute()`, which runs inside that span's context so an executor's own instrumentation
 * nests under it. Attributes are ids, kind, outcome and error code — never payload, secret or output.
 */
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';
import { type Execute, type ExecuteResultMessage, type TraceContext, parseTraceparent } from '@vespid/protocol';
import { AgentError } from './errors.js';

/**
 * The `tracing` option: `true` uses the globally registered tracer provider; `{ tracerProvider }`
 * uses that one. Needs `@opentelemetry/api` installed (an optional peer dependency).
 *
 * @example
 * ```ts
 * createAgent({ gatewayWsUrl, agentToken, name: 'edge-1', executors, tracing: true });
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
    throw new AgentError(
      'OPTIONAL_DEPENDENCY_MISSING',
      `agent tracing needs the optional peer dependency ${PACKAGE}: install it (npm i ${PACKAGE}) or turn tracing off`,
      { retryable: false },
    );
  }
}

/** Tracing of one accepted task. */
export interface TaskTrace {
  /** Runs the executor inside the executor span; the span ends with the executor's outcome. */
  executor<T extends { status: string; error?: { code: string } | undefined }>(run: () => Promise<T>): Promise<T>;
  /** Ends the execute span with the reported result. */
  finished(result: ExecuteResultMessage): void;
}

/** Starts a task's trace. */
export interface AgentTracing {
  task(frame: Execute): TaskTrace;
}

/** Null when tracing is off (the default): nothing is loaded and no span is made. */
export function createAgentTracing(option: TracingOption | undefined, load?: () => unknown): AgentTracing | null {
  if (!option) return null;
  const api = loadOtelApi(load);
  const provider = (typeof option === 'object' && option.tracerProvider) || api.trace.getTracerProvider();
  const tracer = provider.getTracer('@vespid/sdk-agent') as Otel.Tracer;

  const end = (span: Otel.Span, status: string, code: string | undefined) => {
    span.setAttribute('vespid.outcome', status);
    if (code) {
      span.setAttribute('vespid.error_code', code);
      // The code only: an error message may quote request data.
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: code });
    }
    span.end();
  };

  return {
    task(frame) {
      const base = { 'vespid.request_id': frame.requestId, 'vespid.organization_id': frame.organizationId, 'vespid.kind': frame.kind };
      const execute = tracer.startSpan(
        'vespid.agent.execute',
        { kind: api.SpanKind.CONSUMER, attributes: base },
        parentContext(api, frame.trace),
      );
      const ctx = api.trace.setSpan(api.ROOT_CONTEXT, execute);
      return {
        async executor(run) {
          const span = tracer.startSpan('vespid.agent.executor', { attributes: base }, ctx);
          try {
            const result = await api.context.with(api.trace.setSpan(ctx, span), run);
            end(span, result.status, result.error?.code);
            return result;
          } catch (err) {
            const code = (err as { code?: unknown }).code;
            end(span, 'failed', typeof code === 'string' ? code : 'INTERNAL_ERROR');
            throw err;
          }
        },
        finished(result) {
          end(execute, result.status, result.error?.code);
        },
      };
    },
  };
}

/** The gateway's send span from `execute.trace` (a root span when absent). */
function parentContext(api: Api, trace: TraceContext | undefined): Otel.Context {
  const ids = trace ? parseTraceparent(trace.traceparent) : null;
  if (!ids || !trace) return api.ROOT_CONTEXT;
  return api.trace.setSpanContext(api.ROOT_CONTEXT, {
    ...ids,
    isRemote: true,
    ...(trace.tracestate ? { traceState: api.createTraceState(trace.tracestate) } : {}),
  });
}
