import { describe, expect, it } from 'vitest';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the first value that is not undefined, null or false', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? { n } : n === 1 ? null : false), { intervalMs: 1 })).toEqual({ n: 3 });
  });

  it('treats a throw as "not yet" (so expect() works as a condition)', async () => {
    let n = 0;
    const condition = () => {
      expect(++n).toBe(3);
      return 'met';
    };
    await expect(waitFor(condition, { intervalMs: 1 })).resolves.toBe('met');
  });

  it('names what it waited for and the last value it saw when it times out', async () => {
    const state = { ready: false };
    await expect(waitFor(() => state.ready || state, { what: 'the thing', timeoutMs: 20, intervalMs: 5 })).resolves.toBe(state);
    await expect(waitFor(() => state.ready, { what: 'the thing', timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      /timed out after 20 ms waiting for the thing \(last value: false\)/,
    );
    await expect(waitFor(() => JSON.parse('{'), { timeoutMs: 20, intervalMs: 5, detail: () => 'log tail' })).rejects.toThrow(
      /waiting for \(\) => JSON\.parse\(.\{.\) \(last error: .*JSON.*\); log tail/,
    );
  });
});
