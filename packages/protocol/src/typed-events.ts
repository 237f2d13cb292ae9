import type { Logger } from './logger.js';

/**
 * A listener of a typed event. It observes: a throw or a rejected promise is logged and never reaches
 * the emitter. Returning a promise is allowed (a database write); see {@link TypedEventsOptions.track}.
 * (The return type is `unknown`, like `() => void`, so `(e) => list.push(e)` is a listener.)
 *
 * @example
 * ```ts
 * const listener: EventListener<{ agentId: string }> = async ({ agentId }) => { await markOnline(agentId); };
 * ```
 */
export type EventListener<P> = (payload: P) => unknown;

/**
 * Options of {@link TypedEvents}.
 *
 * @example
 * ```ts
 * new TypedEvents<MyEvents>({ logger, source: 'runner', track: (p) => pending.add(p) });
 * ```
 */
export interface TypedEventsOptions {
  logger: Logger;
  /** Names the emitter in the log line of a failed listener (`'<source> event listener failed'`). */
  source: string;
  /** Receives each async listener's promise (already guarded), e.g. so a `close()` can wait for it. */
  track?: (pending: Promise<unknown>) => void;
}

/**
 * The one typed event emitter of the Vespid SDKs: the agent runtime, the gateway and the continuation
 * runner expose its `on()`/`off()` so every package reports events the same way. Listeners run
 * synchronously in registration order; a failing listener is logged with `extra` context and the
 * others still run.
 *
 * @example
 * ```ts
 * const events = new TypedEvents<{ connected: { id: string } }>({ logger, source: 'agent' });
 * const off = events.on('connected', ({ id }) => console.log(id));
 * events.emit('connected', { id: 'a1' });
 * off();
 * ```
 */
export class TypedEvents<E extends { [K in keyof E]: unknown }> {
  readonly #listeners = new Map<keyof E, Set<EventListener<never>>>();
  readonly #options: TypedEventsOptions;

  constructor(options: TypedEventsOptions) {
    this.#options = options;
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof E>(event: K, listener: EventListener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as EventListener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: EventListener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener as EventListener<never>);
  }

  /** Whether anyone listens: lets the emitter skip building a payload nobody would receive. */
  has(event: keyof E): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof E>(event: K, payload: E[K], extra: Record<string, unknown> = {}): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      const failed = (err: unknown) =>
        this.#options.logger.warn(
          { ...extra, event: String(event), err: err instanceof Error ? err.message : String(err) },
          `${this.#options.source} event listener failed`,
        );
      try {
        const out = (listener as EventListener<E[K]>)(payload);
        if (typeof (out as { then?: unknown } | null | undefined)?.then === 'function') {
          const guarded = Promise.resolve(out).catch(failed);
          this.#options.track?.(guarded);
        }
      } catch (err) {
        failed(err);
      }
    }
  }
}
