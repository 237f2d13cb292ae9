/**
 * Reconnect backoff settings. Durations in ms.
 *
 * @example
 * ```ts
 * createAgent({ ...options, reconnect: { initialDelayMs: 1000, maxDelayMs: 60_000, factor: 2 } });
 * ```
 */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay. @default 500 */
  initialDelayMs: number;
  /** Cap of the exponential growth. @default 30000 */
  maxDelayMs: number;
  /** Growth per attempt. @default 2 */
  factor: number;
}

/**
 * "Full jitter" backoff: a uniformly random delay in `[0, min(cap, base·factor^attempt)]`.
 * Written here rather than taken from p-retry because p-retry's `randomize` only multiplies by 1–2,
 * which keeps a fleet that lost the same gateway synchronized; full jitter spreads it over the whole
 * window (see AWS "Exponential Backoff And Jitter").
 *
 * @example
 * ```ts
 * const delay = fullJitterDelay(attempt, { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 });
 * ```
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = options.initialDelayMs * options.factor ** Math.min(Math.max(attempt, 0), 30);
  const ceiling = Math.min(options.maxDelayMs, exp);
  return Math.floor(random() * ceiling);
}
