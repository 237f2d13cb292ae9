import { describe, expect, it } from 'vitest';
import { agentAndDurations } from './events.js';

describe('node event agent and durations', () => {
  it('splits the wait from the execution, from the hand-over to the gateway', () => {
    expect(
      agentAndDurations(
        { status: 'succeeded', agentId: 'a1', agentName: 'box', assignedAt: 1_300, completedAt: 1_800 },
        { createdAt: 1_000 },
      ),
    ).toEqual({ agentId: 'a1', agentName: 'box', queuedMs: 300, executingMs: 500, totalMs: 800 });
  });

  it('clamps clock skew at 0 and leaves unknown parts out (a result the worker made)', () => {
    expect(agentAndDurations({ status: 'succeeded', assignedAt: 900, completedAt: 1_500 }, { createdAt: 1_000 })).toEqual({
      queuedMs: 0,
      executingMs: 600,
      totalMs: 500,
    });
    expect(agentAndDurations({ status: 'failed', completedAt: 5_000 }, { createdAt: 1_000 })).toEqual({ totalMs: 4_000 });
    expect(agentAndDurations({ status: 'failed' }, undefined)).toEqual({});
  });
});
