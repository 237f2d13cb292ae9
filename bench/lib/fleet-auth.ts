/**
 * Agent tokens for the benchmark fleet and the matching authenticator. Tokens are
 * `bench.agent-<n>-<secret>` so the gateway can authenticate any of 10k agents in O(1) without a
 * table (a table scan per upgrade would measure the authenticator, not the gateway).
 */
import { tokensEqual } from '@vespid/protocol';
import type { AgentAuthenticator } from '@vespid/sdk-gateway';

/** The benchmark organization. */
export const BENCH_ORG = 'bench';

/** The token of fleet agent `n`. */
export const fleetToken = (n: number, secret: string): string => `${BENCH_ORG}.agent-${n}-${secret}`;

const TOKEN = /^bench\.agent-(\d{1,6})-([A-Za-z0-9]+)$/;

/**
 * Accepts exactly the tokens made by {@link fleetToken} with `secret`, as agents of `organizationId`
 * (scenario w passes the organization of its worker's database).
 */
export function fleetAuthenticator(secret: string, maxInFlight: number, organizationId: string = BENCH_ORG): AgentAuthenticator {
  return {
    async authenticate(token) {
      const m = TOKEN.exec(token);
      if (!m || !tokensEqual(m[2] ?? '', secret)) return { ok: false, reason: 'invalid' };
      return { ok: true, agent: { agentId: `agent-${m[1]}`, organizationId, tags: [], maxInFlight } };
    },
  };
}
