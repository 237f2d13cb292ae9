import { describe, expect, it } from 'vitest';
import type { SelectionCandidate, SelectionStrategy } from '../selection/strategy.js';

function candidate(i: number, inFlight = 0, maxInFlight = 10): SelectionCandidate {
  return {
    agentId: `agent-${i}`,
    sessionId: `session-${i}`,
    organizationId: 'org-1',
    name: `agent ${i}`,
    inFlight,
    maxInFlight,
    tags: new Set(),
    lastDispatchSeq: i,
  };
}

function* once<T>(items: readonly T[]): Generator<T> {
  yield* items;
}

/**
 * Registers vitest tests that every `SelectionStrategy` must pass: it answers `undefined` for no
 * candidates, returns one of the candidates it was given (same object), works on a single-pass
 * iterable, and stays correct over many calls.
 *
 * @example
 * ```ts
 * selectionStrategyConformance('roundRobin', () => roundRobin());
 * ```
 */
export function selectionStrategyConformance(name: string, factory: () => SelectionStrategy): void {
  describe(`SelectionStrategy conformance: ${name}`, () => {
    it('has a name', () => {
      expect(typeof factory().name).toBe('string');
      expect(factory().name.length).toBeGreaterThan(0);
    });

    it('returns undefined when there are no candidates', () => {
      expect(factory().select(once([]))).toBeUndefined();
    });

    it('returns one of the given candidates, from a single-pass iterable', () => {
      const strategy = factory();
      for (let n = 1; n <= 20; n++) {
        const list = Array.from({ length: n }, (_, i) => candidate(i, (i * 7) % 5));
        const picked = strategy.select(once(list));
        expect(picked).toBeDefined();
        expect(list).toContain(picked);
      }
    });

    it('always picks the only candidate', () => {
      const only = candidate(1, 3);
      expect(factory().select(once([only]))).toBe(only);
    });

    it('handles large pools', () => {
      const list = Array.from({ length: 5000 }, (_, i) => candidate(i, 1 + (i % 9)));
      expect(list).toContain(factory().select(once(list)));
    });
  });
}
