import { describe, expect, it } from 'vitest';
import { AGENT, ELIGIBILITY_CASES, agentOf } from '../../test/eligibility-cases.js';
import { eligibleSessions, explainRouting } from './candidates.js';
import { leastInFlightLru } from './strategy.js';

// The same table runs against the Lua reserve script in redis/eligibility.int.test.ts.
describe('eligibility filter (TypeScript, single replica)', () => {
  it.each(ELIGIBILITY_CASES)('$name', (c) => {
    const { registry } = agentOf(c.agent);
    const eligible = [...eligibleSessions(registry, c.request)].map((s) => s.agentId);
    expect(eligible).toEqual(c.eligible ? [AGENT] : []);
    const why = explainRouting(registry, leastInFlightLru(), c.request);
    expect(why.eligible).toBe(c.eligible ? 1 : 0);
    expect(why.selected?.agentId ?? null).toBe(c.eligible ? AGENT : null);
    if (c.because === 'unseen') expect(why.connected).toBe(0);
    else if (c.because === 'paused') expect(why.excluded.paused).toBe(1);
    else if (c.because) expect(why.excluded[c.because]).toBe(1);
  });
});
