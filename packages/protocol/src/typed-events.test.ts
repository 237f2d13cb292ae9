import { describe, expect, it } from 'vitest';
import type { Logger } from './logger.js';
import { TypedEvents } from './typed-events.js';

interface Events {
  ping: { n: number };
  other: string;
}

function recordingLogger(lines: { msg: string; obj: Record<string, unknown> }[]): Logger {
  const log = (obj: unknown, msg?: string) => lines.push({ msg: msg ?? '', obj: obj as Record<string, unknown> });
  const logger = { trace: log, debug: log, info: log, warn: log, error: log, fatal: log, child: () => logger } as unknown as Logger;
  return logger;
}

describe('TypedEvents', () => {
  it('delivers to listeners in order, and on() returns the remover', () => {
    const events = new TypedEvents<Events>({ logger: recordingLogger([]), source: 'test' });
    const seen: string[] = [];
    const off = events.on('ping', ({ n }) => seen.push(`a${n}`));
    events.on('ping', ({ n }) => seen.push(`b${n}`));
    expect(events.has('ping')).toBe(true);
    expect(events.has('other')).toBe(false);
    events.emit('ping', { n: 1 });
    off();
    events.emit('ping', { n: 2 });
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('logs a throwing or rejecting listener with the source and context, and the others still run', async () => {
    const lines: { msg: string; obj: Record<string, unknown> }[] = [];
    const tracked: Promise<unknown>[] = [];
    const events = new TypedEvents<Events>({ logger: recordingLogger(lines), source: 'runner', track: (p) => tracked.push(p) });
    const seen: number[] = [];
    events.on('ping', () => {
      throw new Error('sync boom');
    });
    events.on('ping', async () => {
      throw new Error('async boom');
    });
    events.on('ping', ({ n }) => seen.push(n));
    events.emit('ping', { n: 7 }, { requestId: 'r1' });
    expect(seen).toEqual([7]);
    expect(tracked).toHaveLength(1);
    await Promise.all(tracked);
    expect(lines.map((l) => l.msg)).toEqual(['runner event listener failed', 'runner event listener failed']);
    expect(lines.map((l) => l.obj.err)).toEqual(['sync boom', 'async boom']);
    expect(lines[0]?.obj).toMatchObject({ event: 'ping', requestId: 'r1' });
  });
});
