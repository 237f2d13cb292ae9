// #region selection
import { type SelectionCandidate, type SelectionStrategy, leastInFlightLru } from '@vespid/sdk-gateway';

/**
 * A custom {@link SelectionStrategy}: prefer agents tagged `preferredTag` (e.g. `zone:primary`) and
 * fall back to any other eligible agent only when no preferred one has spare capacity. Within each
 * group it behaves like the default: the first idle agent wins, otherwise the least loaded.
 *
 * The gateway has already filtered the candidates (organization, kind, connector, selector,
 * capacity) and yields them lazily in least-recently-used order; `select` stays synchronous and
 * returns one of them.
 *
 * @example
 * ```ts
 * createGateway({ authenticator, serviceToken, selection: preferTag('zone:primary') });
 * ```
 */
export function preferTag(preferredTag: string): SelectionStrategy {
  const inGroup = leastInFlightLru();
  return {
    name: `prefer_tag:${preferredTag}`,
    select(candidates: Iterable<SelectionCandidate>) {
      // Reads every candidate (fine for pools of hundreds); stop early if yours holds thousands.
      const others: SelectionCandidate[] = [];
      const preferred: SelectionCandidate[] = [];
      for (const c of candidates) (c.tags.has(preferredTag) ? preferred : others).push(c);
      return inGroup.select(preferred) ?? inGroup.select(others);
    },
  };
}
// #endregion selection
