import { z } from 'zod';

/**
 * W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header): `version-traceid-parentid-flags`
 * in lowercase hex. Version `ff` and all-zero trace or parent ids are invalid; version `00` has exactly
 * four fields, a later version may append more after a `-` (kept, as the spec asks of parsers).
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[0-9a-zA-Z._-]*)?$/;

/**
 * Validates a `traceparent` value.
 *
 * @example
 * ```ts
 * isValidTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'); // true
 * ```
 */
export function isValidTraceparent(value: string): boolean {
  const m = TRACEPARENT.exec(value);
  if (!m) return false;
  const [, version, traceId, parentId, , rest] = m;
  if (version === 'ff' || /^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return false;
  return version !== '00' || rest === undefined;
}

/**
 * W3C trace context carried by a dispatch request body and by the `execute` frame (optional; sent
 * only by a tracing caller, and in `execute` only to agents that announce the `trace` feature), so
 * one trace links worker → gateway → agent → worker. Never carries request data.
 *
 * @example
 * ```ts
 * TraceContextSchema.parse({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
 * ```
 */
export const TraceContextSchema = z.strictObject({
  traceparent: z.string().max(128).refine(isValidTraceparent, 'must be a W3C traceparent (version-traceid-parentid-flags, lowercase hex)'),
  /** Vendor entries (`key=value` list, at most 32 members and 512 characters, printable ASCII). */
  tracestate: z
    .string()
    .max(512)
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII')
    .refine((s) => s.split(',').length <= 32, 'at most 32 list members')
    .optional(),
});
/**
 * @example
 * ```ts
 * const trace: TraceContext = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
 * ```
 */
export type TraceContext = z.infer<typeof TraceContextSchema>;

/**
 * The ids a `traceparent` carries, as OpenTelemetry's `SpanContext` names them.
 *
 * @example
 * ```ts
 * const ids: TraceIds = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
 * ```
 */
export interface TraceIds {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/**
 * Writes a version-00 `traceparent`.
 *
 * @example
 * ```ts
 * formatTraceparent(span.spanContext()); // '00-4bf9…-00f0…-01'
 * ```
 */
export function formatTraceparent(ids: TraceIds): string {
  return `00-${ids.traceId}-${ids.spanId}-${(ids.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * Reads a `traceparent` (null when invalid).
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceFlags; // 1
 * ```
 */
export function parseTraceparent(value: string): TraceIds | null {
  if (!isValidTraceparent(value)) return null;
  const [, traceId, spanId, flags] = value.split('-');
  return { traceId: traceId!, spanId: spanId!, traceFlags: Number.parseInt(flags!, 16) };
}
