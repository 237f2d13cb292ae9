import { describe, expect, it } from 'vitest';
import { selectionStrategyConformance } from '../testing/index.js';
import { type SelectionCandidate, leastInFlightLru, roundRobin, selectionByName } from './strategy.js';

selectionStrategyConformance('leastInFlightLru', () => leastInFlightLru());
selectionStrategyConformance('roundRobin', () => roundRobin());

const c = (agentId: string, inFlight: number): SelectionCandidate => ({
  agentId,
  sessionId: agentId,
  organizationId: 'o',
  name: agentId,
  inFlight,
  maxInFlight: 10,
  tags: new Set(),
  lastDispatchSeq: 0,
});

describe('built-in strategies', () => {
  it('leastInFlightLru takes the least loaded, first (LRU) on ties', () => {
    const s = leastInFlightLru();
    expect(s.select([c('a', 3), c('b', 1), c('c', 1)])?.agentId).toBe('b');
    expect(s.select([c('a', 2), c('b', 0), c('c', 0)])?.agentId).toBe('b');
  });

  it('stops at the first idle candidate without reading the rest', () => {
    let read = 0;
    function* lazy() {
      for (let i = 0; i < 1000; i++) {
        read++;
        yield c(`a${i}`, i === 2 ? 0 : 1);
      }
    }
    expect(leastInFlightLru().select(lazy())?.agentId).toBe('a2');
    expect(read).toBe(3);
  });

  it('compares at most scanLimit busy candidates', () => {
    let read = 0;
    function* busy() {
      for (let i = 0; i < 1000; i++) {
        read++;
        yield c(`a${i}`, i === 500 ? 1 : 5);
      }
    }
    expect(leastInFlightLru({ scanLimit: 10 }).select(busy())?.agentId).toBe('a0');
    expect(read).toBe(10);
    expect(leastInFlightLru({ scanLimit: 1000 }).select(busy())?.agentId).toBe('a500');
    expect(() => leastInFlightLru({ scanLimit: 0 })).toThrow();
  });

  it('roundRobin takes the least recently used (first) candidate', () => {
    expect(roundRobin().select([c('x', 5), c('y', 0)])?.agentId).toBe('x');
  });

  it('maps GATEWAY_AGENT_SELECTION names', () => {
    expect(selectionByName('round_robin').name).toBe('round_robin');
    expect(selectionByName('least_in_flight_lru').name).toBe('least_in_flight_lru');
  });
});
