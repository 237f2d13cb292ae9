/**
 * The one polling helper of the test suites (CONVENTIONS #20: tests wait for conditions, never for a
 * fixed time). Product code does not import it; `/testing` exports stay free of it.
 *
 * @example
 * const job = await waitFor(async () => (await queue.getJobs())[0], { what: 'the continuation job', timeoutMs: 10_000 });
 */
import { inspect } from 'node:util';

export interface WaitForOptions {
  /** What is awaited, for the failure message. @default the condition's source text */
  what?: string;
  /** How long to keep trying before failing. @default 5000 */
  timeoutMs?: number;
  /** Pause between two tries. @default 20 */
  intervalMs?: number;
  /** More context for the failure message, read when it fails (e.g. a child process's output). */
  detail?: () => string | Promise<string>;
}

/** A condition is met once it returns something other than `undefined`, `null` or `false`. */
type Met<T> = Exclude<Awaited<T>, undefined | null | false>;

/**
 * Calls `condition` until it returns a value other than `undefined`, `null` or `false` and resolves with
 * that value. A throw counts as "not yet" (so `expect(...)` works as a condition). On timeout it rejects
 * with an error naming what was awaited and the last value or error seen, so a failure under load says
 * what was missing instead of only "timed out". A string option is shorthand for `{ what }`.
 */
export async function waitFor<T>(condition: () => T, options: WaitForOptions | string = {}): Promise<Met<T>> {
  const opts = typeof options === 'string' ? { what: options } : options;
  const { what = String(condition), timeoutMs = 5000, intervalMs = 20 } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== null && value !== false) return value as Met<T>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    // Checked after a try, so a slow condition on a loaded machine still gets its last chance.
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const seen = !last
    ? ''
    : 'error' in last
      ? ` (last error: ${last.error instanceof Error ? last.error.message : inspect(last.error)})`
      : ` (last value: ${inspect(last.value, { depth: 3, breakLength: Number.POSITIVE_INFINITY }).slice(0, 500)})`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}${opts.detail ? `; ${await opts.detail()}` : ''}`);
}
