import type { Logger } from '@vespid/protocol';
import type Dockerode from 'dockerode';

/** How the pool creates and removes containers (the executor's Engine calls; fakes in unit tests). */
export interface WarmPoolDeps {
  /** Creates one never-started container for `key`. */
  create(key: string): Promise<Dockerode.Container>;
  /** Force-removes a container; one already gone counts as done. */
  remove(container: Dockerode.Container): Promise<void>;
  readonly logger: Logger;
}

/** Distinct pool keys (image × network) kept warm at once; the least recently used key is dropped beyond. */
export const WARM_POOL_MAX_KEYS = 4;

interface Slot {
  readonly idle: Dockerode.Container[];
  creating: number;
}

/**
 * A small, bounded set of pre-created (never started) sandbox containers per pool key. A container is
 * handed out once ({@link take}) and never comes back: the task's run removes it through
 * {@link retire}, off the task's critical path, and the pool refills in the background. At most
 * `size` containers per key exist idle or being created, for at most {@link WARM_POOL_MAX_KEYS} keys.
 */
export class WarmPool {
  private readonly slots = new Map<string, Slot>();
  /** Ids of containers idle in the pool (the sweeper spares them). */
  private readonly idleIds = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly deps: WarmPoolDeps,
  ) {}

  /** Idle containers of `key` right now. */
  idleCount(key: string): number {
    return this.slots.get(key)?.idle.length ?? 0;
  }

  /** Whether `id` is idle in this pool. */
  isIdle(id: string): boolean {
    return this.idleIds.has(id);
  }

  /** Creates containers in the background until `key` has `size` of them (idle or being created). */
  fill(key: string): void {
    if (this.closed || this.size <= 0) return;
    const slot = this.touch(key);
    while (slot.idle.length + slot.creating < this.size) {
      slot.creating++;
      this.track(
        this.deps.create(key).then(
          async (container) => {
            slot.creating--;
            // Closed (or the key was dropped) while creating: this container is not wanted any more.
            if (this.closed || this.slots.get(key) !== slot) return this.deps.remove(container);
            slot.idle.push(container);
            this.idleIds.add(container.id);
            this.deps.logger.debug({ containerId: container.id.slice(0, 12), idle: slot.idle.length }, 'warm sandbox container ready');
          },
          (err: unknown) => {
            slot.creating--;
            // No retry loop: the next take() refills; an engine that is down stays visible as task errors.
            this.deps.logger.warn({ err: String(err) }, 'could not pre-create a warm sandbox container');
          },
        ),
      );
    }
  }

  /** Hands out an idle container of `key` (it leaves the pool for good) and refills; `undefined` when none is ready. */
  take(key: string): Dockerode.Container | undefined {
    if (this.closed) return undefined;
    const slot = this.slots.get(key);
    const container = slot?.idle.shift();
    if (container) this.idleIds.delete(container.id);
    this.fill(key);
    return container;
  }

  /** Removes a used container off the critical path; {@link close} waits for it. */
  retire(container: Dockerode.Container): Promise<void> {
    this.track(this.deps.remove(container));
    return Promise.resolve();
  }

  /** Removes every idle container and waits for pending creations and removals. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots.values()) this.drop(slot);
    this.slots.clear();
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private touch(key: string): Slot {
    let slot = this.slots.get(key);
    if (slot) this.slots.delete(key); // re-inserted last: Map order is the LRU order
    slot ??= { idle: [], creating: 0 };
    this.slots.set(key, slot);
    while (this.slots.size > WARM_POOL_MAX_KEYS) {
      const [oldKey, oldSlot] = this.slots.entries().next().value as [string, Slot];
      this.slots.delete(oldKey);
      this.drop(oldSlot);
    }
    return slot;
  }

  private drop(slot: Slot): void {
    for (const c of slot.idle.splice(0)) {
      this.idleIds.delete(c.id);
      this.track(this.deps.remove(c));
    }
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.deps.logger.warn({ err: String(err) }, 'warm pool cleanup failed; the sweeper will retry'));
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
  }
}
