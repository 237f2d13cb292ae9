import type { SelectionCandidate } from '@vespid/sdk-gateway';
import { selectionStrategyConformance } from '@vespid/sdk-gateway/testing';
import { describe, expect, it } from 'vitest';
import { preferTag } from './zone-selection.js';

// #region conformance
selectionStrategyConformance('preferTag', () => preferTag('zone:primary'));
// #endregion conformance

const candidate = (agentId: string, inFlight: number, tags: string[] = []): SelectionCandidate => ({
  agentId,
  sessionId: `s-${agentId}`,
  organizationId: 'acme',
  name: agentId,
  inFlight,
  maxInFlight: 10,
  tags: new Set(tags),
  lastDispatchSeq: 0,
});

describe('preferTag', () => {
  const strategy = preferTag('zone:primary');
  it('picks a preferred agent even when another one is idle', () => {
    const picked = strategy.select([
      candidate('other', 0),
      candidate('primary-busy', 3, ['zone:primary']),
      candidate('primary', 1, ['zone:primary']),
    ]);
    expect(picked?.agentId).toBe('primary');
  });
  it('falls back to the least loaded other agent when no preferred one is eligible', () => {
    expect(strategy.select([candidate('a', 4), candidate('b', 2)])?.agentId).toBe('b');
    expect(strategy.select([])).toBeUndefined();
  });
});
