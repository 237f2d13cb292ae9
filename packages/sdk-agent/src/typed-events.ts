import type { Logger } from '@vespid/protocol';

/** Minimal typed event emitter. A throwing listener is logged and never breaks the runtime. */
export class TypedEvents<E extends { [K in keyof E]: unknown }> {
  readonly #listeners = new Map<keyof E, Set<(payload: never) => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: (payload: E[K]) => void): void {
    this.#listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (p: E[K]) => void)(payload);
      } catch (err) {
        this.#logger.error({ event: String(event), err: (err as Error)?.message }, 'agent event listener threw');
      }
    }
  }
}
