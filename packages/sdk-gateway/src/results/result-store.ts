import type { StoredResult } from '@vespid/protocol';

/**
 * Which agent a request was sent to, kept beside results so that an agent resending its result after
 * a gateway restart can be checked (same org, same agent) and a duplicate dispatch is not re-sent.
 * @example
 * ```ts
 * await store.recordDispatch({ requestId, organizationId, agentId, deadline: Date.now() + timeoutMs });
 * ```
 */
export interface DispatchRecord {
  requestId: string;
  organizationId: string;
  agentId: string;
  /** Epoch ms after which the request is no longer running. */
  deadline: number;
  /** Cluster mode: the replica that accepted the dispatch (told when another replica stores the result). */
  replicaId?: string;
}

/**
 * What {@link ResultStore.lookup} returns.
 * @example
 * ```ts
 * const { result, dispatch }: StoreLookup = await store.lookup(requestId);
 * ```
 */
export interface StoreLookup {
  result: StoredResult | null;
  dispatch: DispatchRecord | null;
}

/**
 * What {@link ResultStore.claimDispatch} returns: what was there, and whether the record was written.
 * @example
 * ```ts
 * const claim: StoreClaim = await store.claimDispatch!(record);
 * if (claim.claimed) sendToAgent(); else if (claim.result) answer(claim.result);
 * ```
 */
export interface StoreClaim extends StoreLookup {
  /** True when neither a result nor a live record existed and `record` was stored. */
  claimed: boolean;
}

/**
 * Where results (and dispatch records) live. Built-ins: `memoryResultStore()` and
 * `redisResultStore()` from `@vespid/sdk-gateway/redis`. Run `resultStoreConformance` from
 * `@vespid/sdk-gateway/testing` against your own.
 *
 * @example
 * ```ts
 * const stored = await store.put({ requestId, organizationId, status: 'succeeded', output, completedAt: Date.now() });
 * if (!stored) { // a result was already there: first write wins
 * }
 * ```
 */
export interface ResultStore {
  /** The stored result, or null. */
  get(requestId: string): Promise<StoredResult | null>;
  /** Result and dispatch record in one round trip. */
  lookup(requestId: string): Promise<StoreLookup>;
  /**
   * Stores a result if none is stored yet (first write wins) and, for stores that support it,
   * publishes it. Resolves true when this call stored it, false when one existed.
   */
  put(result: StoredResult): Promise<boolean>;
  /** Remembers where a request went, until `deadline` (plus the store's own grace). */
  recordDispatch(record: DispatchRecord): Promise<void>;
  /**
   * Optional, atomic `lookup` + `recordDispatch`: when no result and no live record (deadline in the
   * future) exist, stores `record` and answers `claimed: true`; otherwise answers what exists and
   * writes nothing. A single gateway then makes one store round trip before sending instead of two,
   * and two callers can never both claim the same request. Stores without it get `lookup` then
   * `recordDispatch`.
   */
  claimDispatch?(record: DispatchRecord): Promise<StoreClaim>;
}

/**
 * Options of {@link memoryResultStore}.
 * @example
 * ```ts
 * memoryResultStore({ ttlSec: 60, maxEntries: 10_000 });
 * ```
 */
export interface MemoryResultStoreOptions {
  /** How long results are kept, seconds. @default 900 */
  ttlSec?: number;
  /** Upper bound on kept results; the oldest go first. @default 100000 */
  maxEntries?: number;
}

/**
 * An in-process result store: fine for a single gateway and tests; results do not survive a restart
 * (use the Redis store for that). Bounded by TTL and entry count.
 *
 * @example
 * ```ts
 * createGateway({ authenticator, serviceToken, resultStore: memoryResultStore({ ttlSec: 900 }) });
 * ```
 */
export function memoryResultStore(options: MemoryResultStoreOptions = {}): ResultStore {
  const ttlMs = (options.ttlSec ?? 900) * 1000;
  const maxEntries = options.maxEntries ?? 100_000;
  const results = new Map<string, { value: StoredResult; expires: number }>();
  const dispatches = new Map<string, DispatchRecord>();
  const live = <V>(map: Map<string, V & { expires?: number }>, key: string): V | undefined => {
    const e = map.get(key);
    if (!e) return undefined;
    if (e.expires !== undefined && e.expires <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return e;
  };
  const bound = (map: Map<string, unknown>) => {
    // Maps iterate in insertion order, so the first key is the oldest entry.
    while (map.size > maxEntries) {
      const first = map.keys().next();
      if (first.done) break;
      map.delete(first.value);
    }
  };
  const getResult = (id: string) => live(results, id)?.value ?? null;
  const getDispatch = (id: string) => {
    const d = dispatches.get(id);
    if (d && d.deadline + ttlMs <= Date.now()) {
      dispatches.delete(id);
      return null;
    }
    return d ?? null;
  };
  return {
    async get(requestId) {
      return structuredClone(getResult(requestId));
    },
    async lookup(requestId) {
      return { result: structuredClone(getResult(requestId)), dispatch: getDispatch(requestId) };
    },
    async put(result) {
      if (getResult(result.requestId)) return false;
      results.set(result.requestId, { value: structuredClone(result), expires: Date.now() + ttlMs });
      dispatches.delete(result.requestId);
      bound(results);
      return true;
    },
    async recordDispatch(record) {
      dispatches.set(record.requestId, { ...record });
      bound(dispatches);
    },
    async claimDispatch(record) {
      const result = getResult(record.requestId);
      const dispatch = getDispatch(record.requestId);
      if (result || (dispatch && dispatch.deadline > Date.now())) return { result: structuredClone(result), dispatch, claimed: false };
      dispatches.set(record.requestId, { ...record });
      bound(dispatches);
      return { result: null, dispatch: null, claimed: true };
    },
  };
}
