import { type Logger, noopLogger } from '@vespid/protocol';
import type { ContinuationHandler, ContinuationQueue } from './queue.js';
import { Semaphore } from './semaphore.js';

/**
 * Options of {@link inProcessQueue}.
 *
 * @example
 * ```ts
 * inProcessQueue({ concurrency: 4, errorRetryMs: 500 });
 * ```
 */
export interface InProcessQueueOptions {
  /** Steps running at once. @default 10 */
  concurrency?: number;
  /** Delay before retrying a step that threw. @default 1000 */
  errorRetryMs?: number;
  logger?: Logger;
}

interface Entry {
  runAt: number;
  timer: NodeJS.Timeout | undefined;
  state: 'waiting' | 'running';
  /** Set when a schedule arrives while the step runs: the next run is due then. */
  again: number | undefined;
}

/**
 * A {@link ContinuationQueue} made of timers in this process, for embedded use without Redis. Nothing
 * survives a restart: on start the runner's sweeper re-creates a continuation for every blocked cursor.
 *
 * @example
 * ```ts
 * const runner = createContinuationRunner({ client, store, onResult, queue: inProcessQueue({ concurrency: 4 }) });
 * ```
 */
export function inProcessQueue(options: InProcessQueueOptions = {}): ContinuationQueue {
  const limiter = new Semaphore(Math.max(1, options.concurrency ?? 10));
  const errorRetryMs = options.errorRetryMs ?? 1000;
  const logger = options.logger ?? noopLogger;
  const entries = new Map<string, Entry>();
  const running = new Set<Promise<void>>();
  let handler: ContinuationHandler | undefined;
  let closed = false;

  function arm(requestId: string, entry: Entry, runAt: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.runAt = runAt;
    entry.timer = setTimeout(() => fire(requestId, entry), Math.max(0, runAt - Date.now()));
    entry.timer.unref();
  }

  function fire(requestId: string, entry: Entry): void {
    if (closed || entries.get(requestId) !== entry || !handler) return;
    entry.timer = undefined;
    entry.state = 'running';
    const h = handler;
    const p = limiter
      .run(async () => {
        if (closed) return;
        let next: number | undefined;
        try {
          const step = await h(requestId);
          next = step.done ? undefined : step.retryAt;
        } catch (err) {
          logger.warn({ requestId, err: (err as Error).message }, 'continuation step failed; retrying');
          next = Date.now() + errorRetryMs;
        }
        if (entries.get(requestId) !== entry) return;
        if (entry.again !== undefined) next = next === undefined ? entry.again : Math.min(next, entry.again);
        entry.again = undefined;
        entry.state = 'waiting';
        if (next === undefined || closed) entries.delete(requestId);
        else arm(requestId, entry, next);
      })
      .finally(() => running.delete(p));
    running.add(p);
  }

  return {
    name: 'in-process',
    async start(h) {
      handler = h;
      for (const [id, entry] of entries) if (entry.state === 'waiting') arm(id, entry, entry.runAt);
    },
    async schedule(requestId, runAt, opts = {}) {
      if (closed) return;
      const entry = entries.get(requestId);
      if (!entry) {
        const created: Entry = { runAt, timer: undefined, state: 'waiting', again: undefined };
        entries.set(requestId, created);
        if (handler) arm(requestId, created, runAt);
        return;
      }
      if (entry.state === 'running') {
        if (!opts.promote) return;
        entry.again = entry.again === undefined ? runAt : Math.min(entry.again, runAt);
        return;
      }
      if (!opts.promote) return;
      if (handler) arm(requestId, entry, runAt);
      else entry.runAt = runAt;
    },
    async cancel(requestId) {
      const entry = entries.get(requestId);
      if (!entry || entry.state === 'running') return;
      if (entry.timer) clearTimeout(entry.timer);
      entries.delete(requestId);
    },
    async close({ timeoutMs = 5000 } = {}) {
      closed = true;
      for (const entry of entries.values()) if (entry.timer) clearTimeout(entry.timer);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      entries.clear();
    },
  };
}
