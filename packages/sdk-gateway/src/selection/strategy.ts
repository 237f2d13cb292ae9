/**
 * What a selection strategy sees of a connected agent. Read-only: the gateway owns the state.
 * @example
 * ```ts
 * const idle = (c: SelectionCandidate) => c.inFlight === 0;
 * ```
 */
export interface SelectionCandidate {
  readonly agentId: string;
  readonly sessionId: string;
  readonly organizationId: string;
  readonly name: string;
  /** Requests currently running on this session. */
  readonly inFlight: number;
  /** Effective cap: `min(reported maxInFlight, control-plane cap)`, default 10. */
  readonly maxInFlight: number;
  /** Control-plane tags. */
  readonly tags: ReadonlySet<string>;
  /** Monotonic sequence number of the last dispatch to this session (0 = never). */
  readonly lastDispatchSeq: number;
}

/**
 * Picks one agent among eligible candidates. The gateway has already filtered by organization, kind,
 * connector, selector and capacity, and yields candidates in least-recently-dispatched order, lazily:
 * a strategy that stops iterating early (e.g. at the first idle agent) does not pay for the rest, which
 * keeps selection fast with thousands of agents in one organization.
 *
 * `select` must be synchronous, must return one of the yielded candidates (or `undefined` when there
 * are none), and must not keep references to candidates. Run `selectionStrategyConformance` from
 * `@vespid/sdk-gateway/testing` against your own strategy.
 *
 * @example
 * ```ts
 * const firstFit: SelectionStrategy = {
 *   name: 'first_fit',
 *   select(candidates) { for (const c of candidates) return c; return undefined; },
 * };
 * ```
 */
export interface SelectionStrategy {
  readonly name: string;
  select(candidates: Iterable<SelectionCandidate>): SelectionCandidate | undefined;
}

/**
 * Options of {@link leastInFlightLru}.
 *
 * @example
 * ```ts
 * const options: LeastInFlightLruOptions = { scanLimit: 128 };
 * createGateway({ authenticator, serviceToken, selection: leastInFlightLru(options) });
 * ```
 */
export interface LeastInFlightLruOptions {
  /**
   * How many eligible candidates (in LRU order) are compared at most when none is idle. Bounds the
   * cost per dispatch when thousands of busy agents share a pool; the LRU rotation keeps it fair.
   * @default 64
   */
  scanLimit?: number;
}

/**
 * Least in-flight first; ties go to the least recently used agent. Stops at the first idle agent,
 * which is the LRU idle one because candidates arrive in LRU order; when all are busy it compares at
 * most `scanLimit` of the least recently used.
 *
 * @example
 * ```ts
 * createGateway({ authenticator, serviceToken, selection: leastInFlightLru({ scanLimit: 128 }) });
 * ```
 */
export function leastInFlightLru(options: LeastInFlightLruOptions = {}): SelectionStrategy {
  const limit = options.scanLimit ?? 64;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('leastInFlightLru: scanLimit must be a positive integer');
  return {
    name: 'least_in_flight_lru',
    select(candidates) {
      let best: SelectionCandidate | undefined;
      let seen = 0;
      for (const c of candidates) {
        if (c.inFlight === 0) return c;
        if (!best || c.inFlight < best.inFlight) best = c;
        if (++seen >= limit) break;
      }
      return best;
    },
  };
}

/**
 * Rotates over eligible agents: each dispatch goes to the agent that was used least recently, so two
 * agents get a, b, a, b… regardless of load.
 *
 * @example
 * ```ts
 * createGateway({ authenticator, serviceToken, selection: roundRobin() });
 * ```
 */
export function roundRobin(): SelectionStrategy {
  return {
    name: 'round_robin',
    select(candidates) {
      for (const c of candidates) return c;
      return undefined;
    },
  };
}

/**
 * The built-in strategy names: the values of `GATEWAY_AGENT_SELECTION` and of the `selection` option
 * given as a string, and the strategies cluster mode can run inside Redis. Every other list of names
 * derives from this one.
 * @example
 * ```ts
 * if ((SELECTION_NAMES as readonly string[]).includes(value)) selectionByName(value as SelectionName);
 * ```
 */
export const SELECTION_NAMES = ['least_in_flight_lru', 'round_robin'] as const;

/**
 * The strategy names accepted by `GATEWAY_AGENT_SELECTION`.
 * @example
 * ```ts
 * const name: SelectionName = 'round_robin';
 * ```
 */
export type SelectionName = (typeof SELECTION_NAMES)[number];

/** Whether `name` is a built-in strategy's name. */
export function isSelectionName(name: string): name is SelectionName {
  return (SELECTION_NAMES as readonly string[]).includes(name);
}

/**
 * The built-in strategy for a `GATEWAY_AGENT_SELECTION` value.
 *
 * @example
 * ```ts
 * const selection = selectionByName(process.env.GATEWAY_AGENT_SELECTION ?? 'least_in_flight_lru');
 * ```
 */
export function selectionByName(name: SelectionName): SelectionStrategy {
  return name === 'round_robin' ? roundRobin() : leastInFlightLru();
}
