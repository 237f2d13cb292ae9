import { describe, expect, it } from 'vitest';
import { DispatchRequestSchema } from './dispatch.js';
import { ExecuteSchema } from './messages.js';
import { TraceContextSchema, isValidTraceparent } from './trace-context.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context', () => {
  it.each([
    [VALID, true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', true],
    // A later version may append fields; version 00 may not.
    ['01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', true],
    [`${VALID}-extra`, false],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', false],
    ['00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', false],
    ['not a traceparent', false],
  ])('traceparent %s → %s', (value, ok) => {
    expect(isValidTraceparent(value)).toBe(ok);
    expect(TraceContextSchema.safeParse({ traceparent: value }).success).toBe(ok);
  });

  it('bounds tracestate and refuses unknown fields', () => {
    expect(TraceContextSchema.safeParse({ traceparent: VALID, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' }).success).toBe(true);
    expect(TraceContextSchema.safeParse({ traceparent: VALID, tracestate: 'x'.repeat(513) }).success).toBe(false);
    expect(TraceContextSchema.safeParse({ traceparent: VALID, tracestate: Array(33).fill('a=b').join(',') }).success).toBe(false);
    expect(TraceContextSchema.safeParse({ traceparent: VALID, tracestate: 'a=\n' }).success).toBe(false);
    expect(TraceContextSchema.safeParse({ traceparent: VALID, baggage: 'k=v' }).success).toBe(false);
  });

  it('is an optional field of the dispatch request and of the execute frame', () => {
    const base = { organizationId: 'acme', requestId: 'r:n:0', kind: 'agent.execute', payload: {} };
    expect(DispatchRequestSchema.parse(base).trace).toBeUndefined();
    expect(DispatchRequestSchema.parse({ ...base, trace: { traceparent: VALID } }).trace).toEqual({ traceparent: VALID });
    expect(DispatchRequestSchema.safeParse({ ...base, trace: { traceparent: 'bad' } }).success).toBe(false);
    const frame = { type: 'execute', ...base, timeoutMs: 1000 };
    expect(ExecuteSchema.safeParse(frame).success).toBe(true);
    expect(ExecuteSchema.safeParse({ ...frame, trace: { traceparent: VALID } }).success).toBe(true);
    expect(ExecuteSchema.safeParse({ ...frame, trace: { traceparent: '00-x' } }).success).toBe(false);
  });
});
