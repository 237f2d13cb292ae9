import { afterAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { REDIS_BACKENDS, deleteKeys } from '../../test/redis-backends.js';
import { AGENT, ELIGIBILITY_CASES, agentOf } from '../../test/eligibility-cases.js';
import { reserveRequestOf } from '../core/cluster-route.js';
import { presenceOf } from '../selection/candidates.js';
import { SELECTION_NAMES } from '../selection/strategy.js';
import { redisCluster } from './index.js';

// The same table runs against the TypeScript filter in selection/eligibility.test.ts. Here each case's
// agent is published the way SessionManager publishes it (presenceOf: nothing when paused or draining),
// its load is real reservations, and the request goes through the gateway's own reserve arguments.
// On a standalone Redis and on a Redis Cluster (where the script must stay in the org's slot).
for (const backend of REDIS_BACKENDS)
  await describeWith(backend.services, `eligibility in the Lua reserve script (real Redis: ${backend.name})`, () => {
    const redis = backend.connect();
    const root = uniquePrefix('gwelig');
    let n = 0;

    afterAll(async () => {
      await deleteKeys(redis, `${root}*`);
      redis.disconnect();
    });

    for (const strategy of SELECTION_NAMES) {
      it.each(ELIGIBILITY_CASES)(`${strategy}: $name`, async (c) => {
        const cluster = redisCluster({ redis, replicaId: 'r-elig', keyPrefix: `${root}:${++n}:` });
        const { session } = agentOf(c.agent);
        const presence = presenceOf(session);
        if (presence) await cluster.register(presence);
        const deadline = Date.now() + 60_000;
        for (let i = 0; i < (c.agent.inFlight ?? 0); i++) {
          const load = reserveRequestOf(
            { requestId: `load-${i}`, organizationId: session.organizationId, kind: c.agent.kinds[0]!, selector: { agentId: AGENT } },
            strategy,
            deadline,
          );
          expect(await cluster.reserve(load)).toMatchObject({ ok: true, agentId: AGENT });
        }
        const r = await cluster.reserve(reserveRequestOf({ ...c.request, requestId: `req-${n}` }, strategy, deadline));
        if (c.eligible) expect(r).toMatchObject({ ok: true, agentId: AGENT, replicaId: 'r-elig', sessionId: session.sessionId });
        else expect(r).toEqual({ ok: false, reason: 'no_agent' });
        await cluster.close();
      });
    }
  });
