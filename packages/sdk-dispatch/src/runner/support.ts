import type { ErrorInfo } from '@vespid/protocol';
import { DispatchError } from '../errors.js';
import type { ContinuationQueue } from '../queue/queue.js';
import type { BlockedCursor, CursorStore } from '../store/cursor.js';

const SWEEP_PAGE = 500;
// Bounds one sweep to 100k cursors; the next sweep starts again from the first page.
const SWEEP_PAGE_LIMIT = 200;

/** The `{code, message, retryable}` of a dispatch failure, as `onResult` receives it. */
export function errorInfo(err: unknown): ErrorInfo {
  if (DispatchError.is(err)) return { code: err.code, message: err.message.slice(0, 8000), retryable: err.retryable };
  return { code: 'INTERNAL_ERROR', message: 'dispatch failed unexpectedly', retryable: true };
}

/** A positive integer option, or its default. */
export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new DispatchError('BAD_REQUEST', `${name} must be a positive integer`);
  return value;
}

/**
 * Gives every blocked cursor (created within `window`, when given) a continuation due at `dueAt(cursor)`
 * (keyset pages of the store). With `promote`, existing continuations become due then too: used at
 * start-up, when results may have been published while no worker listened.
 */
export async function sweepBlocked<Tx>(
  store: CursorStore<Tx>,
  queue: ContinuationQueue,
  window: { createdAfter?: number; createdBefore?: number },
  dueAt: (cursor: BlockedCursor) => number | Promise<number>,
  promote = false,
): Promise<number> {
  let after: string | undefined;
  let seen = 0;
  for (let page = 0; page < SWEEP_PAGE_LIMIT; page++) {
    const batch = await store.listBlocked({ after, limit: SWEEP_PAGE, ...window });
    for (const c of batch) await queue.schedule(c.requestId, await dueAt(c), { promote });
    seen += batch.length;
    if (batch.length < SWEEP_PAGE) break;
    after = batch[batch.length - 1]!.requestId;
  }
  return seen;
}

/**
 * Options removed in 0.2 (see the changeset), refused rather than ignored: a runner silently without
 * its Redis queue, push or observers would look healthy and behave differently.
 */
const REMOVED_OPTIONS: Record<string, string> = {
  redis: 'pass queue: bullmqQueue({ connection }) and push: redisResultPush({ connection }) from @vespid/sdk-dispatch/redis',
  channel: 'pass it to redisResultPush({ connection, channel }) from @vespid/sdk-dispatch/redis',
  onQueued: "use runner.on('queued', listener)",
  onDispatched: "use runner.on('dispatched', listener)",
  onApplied: "use runner.on('applied', listener)",
};

export function rejectRemovedOptions(options: object): void {
  for (const [name, instead] of Object.entries(REMOVED_OPTIONS)) {
    if ((options as Record<string, unknown>)[name] !== undefined) {
      throw new DispatchError('BAD_REQUEST', `createContinuationRunner: the ${name} option was removed; ${instead}`);
    }
  }
  const push = (options as { push?: unknown }).push;
  if (push !== undefined && (typeof push !== 'object' || push === null)) {
    throw new DispatchError(
      'BAD_REQUEST',
      'createContinuationRunner: push is a ResultPush now (redisResultPush() from @vespid/sdk-dispatch/redis), not a boolean',
    );
  }
}
