/**
 * Sizes of the chaos suite. `pnpm test` runs the SHORT form (the same invariants on small numbers, a
 * minute or two on 2 cores); `pnpm test:chaos` sets CHAOS_FULL=1 for the numbers.
 */
export const FULL = process.env.CHAOS_FULL === '1' || process.env.CHAOS_FULL === 'true';

export const SCALE = FULL
  ? {
      gatewayKillInFlight: 200,
      workerKillRuns: 60,
      redisRestartRuns: 60,
      postgresOutageMs: 10_000,
      postgresOutageRuns: 40,
      sigtermRuns: 40,
      loadAgents: 1000,
      loadAgentProcs: 4,
      loadNodes: 20_000,
      loadOrgs: 50,
      fuzzCasesPerTarget: 1500,
      badUpgrades: 2000,
    }
  : {
      gatewayKillInFlight: 30,
      workerKillRuns: 12,
      redisRestartRuns: 12,
      postgresOutageMs: 3_000,
      postgresOutageRuns: 8,
      sigtermRuns: 8,
      loadAgents: 60,
      loadAgentProcs: 2,
      loadNodes: 1_200,
      loadOrgs: 6,
      fuzzCasesPerTarget: 150,
      badUpgrades: 300,
    };

/** A small seeded PRNG (mulberry32) so a failing fuzz case can be replayed with CHAOS_SEED. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
