import type { ReserveOutcome, ReserveRequest } from '../cluster/cluster-types.js';

/** Pool page size inside the reserve script. */
const CHUNK = 64;

/** Keys and arguments of one run of the reserve script (cluster-scripts.ts) for a request. */
export function reserveCall(
  prefix: string,
  r: ReserveRequest,
  quota: number,
  scanLimit: number,
  now = Date.now(),
): { keys: string[]; args: Array<string | number> } {
  const org = r.organizationId;
  const pool = r.agentId !== undefined ? '' : r.tag !== undefined ? `${prefix}pt:{${org}}:${r.tag}` : `${prefix}pk:{${org}}:${r.kind}`;
  return {
    // The org's in-flight zset: any key of the org routes the script to the org's slot on Redis Cluster.
    keys: [`${prefix}oi:{${org}}`],
    args: [
      prefix,
      now,
      r.strategy === 'round_robin' ? 'rr' : 'lil',
      pool,
      org,
      r.kind,
      r.connectorId ?? '',
      r.tag ?? '',
      r.agentId ?? '',
      r.requestId,
      r.deadline,
      quota,
      scanLimit,
      CHUNK,
    ],
  };
}

/**
 * The script's answer as an outcome, plus `examined`: how many agent presences it read (the cost the
 * free-slot index keeps independent of the busy agents; the gateway ignores it, tests assert on it).
 */
export function reserveOutcomeOf(out: Array<string | number>, quota: number): ReserveOutcome & { examined: number } {
  if (out[0] === 'ok')
    return { ok: true, agentId: String(out[1]), replicaId: String(out[2]), sessionId: String(out[3]), examined: Number(out[4]) };
  if (out[0] === 'quota') return { ok: false, reason: 'quota', quota, examined: 0 };
  return { ok: false, reason: 'no_agent', examined: Number(out[1]) };
}
