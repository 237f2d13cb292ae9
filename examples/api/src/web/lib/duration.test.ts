import { describe, expect, it } from 'vitest';
import { formatDuration, parseRoute } from './duration.js';

describe('fleet view formatting', () => {
  it('formats durations from milliseconds to hours, and unknown as a dash', () => {
    expect([null, undefined, -1, Number.NaN].map(formatDuration)).toEqual(['—', '—', '—', '—']);
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4210)).toBe('4.2 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(7_800_000)).toBe('2 h 10 min');
  });

  it('routes #/agents/<uuid> and #/runs/<uuid>; anything else is the list', () => {
    const id = '0b7c8a7e-1d2f-4c3b-9a8e-7f6d5c4b3a21';
    expect(parseRoute(`#/agents/${id}`)).toEqual({ view: 'agent', id });
    expect(parseRoute(`#/runs/${id.toUpperCase()}`)).toEqual({ view: 'run', id });
    for (const h of ['', '#', '#/agents', '#/agents/not-a-uuid', `#/runs/${id}/x`, `#/other/${id}`]) {
      expect(parseRoute(h)).toEqual({ view: 'list' });
    }
  });
});
