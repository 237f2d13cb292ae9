import type { Logger } from '@vespid/protocol';

/**
 * A listener of a runner event; a returned promise is awaited by `close()`, its rejection only logged.
 * (Typed `unknown`, like `() => void`, so `(e) => list.push(e)` is a listener.)
 *
 * @example
 * ```ts
 * const listener: RunnerListener<AppliedEvent> = async ({ cursor }) => { await wakeRun(cursor.runId); };
 * ```
 */
export type RunnerListener<P> = (payload: P) => unknown;

/**
 * The runner's typed events, in the style of the agent's `on()`. A listener observes: one that throws
 * or rejects is logged and never affects the continuation (the result is already committed, or the
 * dispatch already accepted). `track` hands an async listener's promise to the runner so that
 * `close()` waits for it (a listener writing a run event is not cut off by shutdown).
 */
export class RunnerEvents<E extends { [K in keyof E]: unknown }> {
  readonly #listeners = new Map<keyof E, Set<RunnerListener<never>>>();
  readonly #logger: Logger;
  readonly #track: (p: Promise<unknown>) => void;

  constructor(logger: Logger, track: (p: Promise<unknown>) => void) {
    this.#logger = logger;
    this.#track = track;
  }

  on<K extends keyof E>(event: K, listener: RunnerListener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as RunnerListener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: RunnerListener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener as RunnerListener<never>);
  }

  /** Whether anyone listens (lets the runner skip building a payload). */
  has(event: keyof E): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof E>(event: K, payload: E[K], context: Record<string, unknown> = {}): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      const failed = (err: unknown) =>
        this.#logger.warn({ ...context, event: String(event), err: (err as Error)?.message }, 'runner event listener failed');
      try {
        const out = (listener as RunnerListener<E[K]>)(payload);
        if (out instanceof Promise || typeof (out as { then?: unknown } | null)?.then === 'function') {
          this.#track(Promise.resolve(out).catch(failed));
        }
      } catch (err) {
        failed(err);
      }
    }
  }
}
