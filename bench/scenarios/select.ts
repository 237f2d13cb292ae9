/** Which scenarios a run executes: `--only` picks by id, `--quick` leaves out the full-only ones. */

/** What {@link selectScenarios} needs of a scenario. */
export interface Selectable {
  id: string;
  /** Runs in the full suite and with `--only`, never with `--quick` (CI's smoke stays as it is). */
  fullOnly?: boolean;
}

/**
 * The scenarios to run, in their order, and the ids left out because the run is quick.
 * @example
 * ```ts
 * const { run, skipped } = selectScenarios(SCENARIOS, { quick: true, only: new Set(['a', 'g']) }); // run a; skipped ['g']
 * ```
 */
export function selectScenarios<T extends Selectable>(all: readonly T[], opts: { quick: boolean; only: ReadonlySet<string> | null }) {
  const wanted = all.filter((s) => !opts.only || opts.only.has(s.id));
  return {
    run: wanted.filter((s) => !(opts.quick && s.fullOnly)),
    skipped: wanted.filter((s) => opts.quick && s.fullOnly).map((s) => s.id),
  };
}
