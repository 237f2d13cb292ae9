import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from './backoff.js';

const opts = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 };

describe('fullJitterDelay', () => {
  it('spans [0, min(cap, base·2^n)) and is capped', () => {
    expect(fullJitterDelay(0, opts, () => 0)).toBe(0);
    expect(fullJitterDelay(0, opts, () => 0.999)).toBe(499);
    expect(fullJitterDelay(3, opts, () => 0.5)).toBe(2000);
    expect(fullJitterDelay(50, opts, () => 0.999)).toBe(29_970);
  });

  it('spreads a fleet that lost the gateway at the same moment', () => {
    const delays = Array.from({ length: 1000 }, () => fullJitterDelay(4, opts));
    const buckets = new Set(delays.map((d) => Math.floor(d / 800)));
    expect(Math.max(...delays)).toBeLessThan(8000);
    // 1000 agents fall into all ten 800 ms buckets of the 8 s window rather than one instant.
    expect(buckets.size).toBe(10);
  });
});

describe('AGENT_VERSION', () => {
  it('matches package.json', async () => {
    const { AGENT_VERSION } = await import('./version.js');
    const pkg = await import('../package.json', { with: { type: 'json' } });
    expect(AGENT_VERSION).toBe(pkg.default.version);
  });
});
