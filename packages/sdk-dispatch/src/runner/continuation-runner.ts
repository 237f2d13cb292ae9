import {
  type DispatchRequest,
  DispatchRequestSchema,
  type StoredResult,
  type TraceContext,
  TypedEvents,
  noopLogger,
} from '@vespid/protocol';
import { asValidatedRequest } from '../client/dispatch-client.js';
import { DispatchError } from '../errors.js';
import { inProcessQueue } from '../queue/in-process-queue.js';
import type { ContinuationQueue, ContinuationStep } from '../queue/queue.js';
import { Semaphore } from '../queue/semaphore.js';
import { requestIdFor } from '../request-id.js';
import type { BlockedCursor } from '../store/cursor.js';
import {
  type BlockInput,
  type BlockResult,
  CONTINUATION_DEFAULTS,
  type ContinuationResult,
  type ContinuationRunnerEvents,
  type ContinuationRunnerOptions,
  fromStored,
  type ResultSource,
} from './options.js';
import type { ResultSubscription } from './result-push.js';
import { createDispatchTracing } from '../tracing.js';
import { errorInfo, positive, rejectRemovedOptions, sweepBlocked } from './support.js';
import type { ContinuationRunner, RunnerState } from './types.js';

/** A cursor this process watches for a push (see `watched` below). */
interface Watched {
  cursor: BlockedCursor;
  /** When the gateway accepted the first send from `block()` (not yet in the store). */
  dispatchedAt?: number;
  /** Set when the result was applied while `block()` was still sending. */
  completed?: BlockedCursor;
  /** Handed to the continuation queue (by a due sweep, or because a step polled it). */
  queued?: boolean;
  /**
   * Set while the cursor's insert is under way and the request already left (`dispatchBeforeCommit`):
   * the cursor is not in the store yet, so whatever needs it waits for this (rejects if the insert failed).
   */
  inserted?: Promise<unknown>;
}

/** Runs `fn` now, or once the cursor's insert committed when it is still under way. */
function afterInsert(local: Watched | undefined, fn: () => void): void {
  if (local?.inserted) local.inserted.then(fn, () => undefined);
  else fn();
}

/**
 * Creates the continuation runner: `block()` persists a cursor (run, node, requestId, attempt,
 * deadline), dispatches asynchronously and frees the caller; the result arrives by Redis push
 * (milliseconds), by polling every `pollMs` as a fallback, or as `NODE_EXECUTION_TIMEOUT` at the
 * deadline, and `onResult` runs exactly once inside the store's transaction.
 *
 * @example
 * ```ts
 * const runner = createContinuationRunner({
 *   client: dispatchClientFromEnv(process.env),
 *   store: postgresCursorStore({ pool }),
 *   queue: bullmqQueue({ connection: process.env.REDIS_URL! }),      // from '@vespid/sdk-dispatch/redis'
 *   push: redisResultPush({ connection: process.env.REDIS_URL! }),   // idem; without it: polling only
 *   ...continuationOptionsFromEnv(process.env),
 *   onBlocked: ({ cursor, tx }) => appendEvent(tx, cursor.runId, 'node_dispatched', { requestId: cursor.requestId }),
 *   onResult: ({ cursor, result, tx }) => appendEvent(tx, cursor.runId, `node_${result.status}`, result),
 * });
 * runner.on('applied', ({ cursor }) => wakeRun(cursor.runId));
 * await runner.start();
 * await runner.block({ organizationId, runId, nodeId, attempt: 0, kind: 'connector.action', payload, secret });
 * ```
 */
export function createContinuationRunner<Tx>(options: ContinuationRunnerOptions<Tx>): ContinuationRunner {
  if (!options?.client || !options.store || typeof options.onResult !== 'function') {
    throw new DispatchError('BAD_REQUEST', 'createContinuationRunner needs client, store and onResult');
  }
  rejectRemovedOptions(options);
  const { client, store } = options;
  const logger = options.logger ?? noopLogger;
  const pollMs = positive(options.pollMs, CONTINUATION_DEFAULTS.pollMs, 'pollMs');
  const nodeExecTimeoutMs = positive(options.nodeExecTimeoutMs, CONTINUATION_DEFAULTS.nodeExecTimeoutMs, 'nodeExecTimeoutMs');
  const concurrency = positive(options.concurrency, CONTINUATION_DEFAULTS.concurrency, 'concurrency');
  const graceMs = options.deadlineGraceMs ?? 1000;
  if (!Number.isInteger(graceMs) || graceMs < 0) throw new DispatchError('BAD_REQUEST', 'deadlineGraceMs must be a non-negative integer');
  // A cursor left without a continuation (its run job died right after the insert committed) is found
  // only by the sweep, so by default it runs well within the node timeout, not after it.
  const sweepIntervalMs = positive(
    options.sweepIntervalMs,
    Math.min(30_000, Math.max(1000, Math.floor(nodeExecTimeoutMs / 4))),
    'sweepIntervalMs',
  );
  const queue: ContinuationQueue = options.queue ?? inProcessQueue({ concurrency, logger });
  const pushLimiter = new Semaphore(concurrency);
  // Null unless `tracing` is on: loads @opentelemetry/api then, and only then.
  const tracing = createDispatchTracing(options.tracing);
  // Requests whose first dispatch is under way in this process: the poller must not re-send them yet.
  const dispatching = new Set<string>();
  // Queued requests already reported as `queued` by this process (each poll re-dispatches them).
  const reportedQueued = new Set<string>();
  // Requests whose agent was already reported as `dispatched` by this process.
  const reportedAgent = new Set<string>();
  // Cursors this process blocked (or polled) and has not seen completed. A push for one of them is
  // applied from this copy without reading the store; a push for any other request is left to the
  // worker that watches it, or to polling. `dispatchedAt` is when the gateway accepted it (kept here,
  // written to the store only if the cursor is still blocked when its first poll is due).
  const watched = new Map<string, Watched>();
  // Cursors created up to this instant were handed to the queue by an earlier due sweep.
  let dueSweptUntil = Date.now();
  const background = new Set<Promise<unknown>>();
  let state: RunnerState = 'idle';
  let subscription: ResultSubscription | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let dueTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  function track(p: Promise<unknown>): void {
    background.add(p);
    p.finally(() => background.delete(p)).catch(() => undefined);
  }
  // Async listeners are tracked, so close() waits for e.g. a run event being written.
  const events = new TypedEvents<ContinuationRunnerEvents>({ logger, source: 'runner', track });

  /** Applies a result (inside the apply span, a child of the cursor's block span, when tracing). */
  function apply(cursor: BlockedCursor, result: ContinuationResult, expectOrg?: string): Promise<boolean> {
    if (!tracing) return applyUntraced(cursor.requestId, result, expectOrg);
    const facts = {
      requestId: cursor.requestId,
      organizationId: cursor.organizationId,
      kind: cursor.request.kind,
      runId: cursor.runId,
      nodeId: cursor.nodeId,
    };
    return tracing.apply(facts, cursor.request.trace, async (span) => {
      const applied = await applyUntraced(cursor.requestId, result, expectOrg);
      span.end(result.status, result.error, {
        'vespid.result_source': result.source,
        'vespid.applied': applied,
        ...(result.agentId ? { 'vespid.agent_id': result.agentId } : {}),
      });
      return applied;
    });
  }

  async function applyUntraced(requestId: string, result: ContinuationResult, expectOrg?: string): Promise<boolean> {
    const local = watched.get(requestId);
    // The request left before its cursor committed: the compare-and-set needs the row.
    if (local?.inserted) await local.inserted;
    const outcome = {
      status: result.status,
      error: result.error,
      completedAt: result.completedAt,
      ...(local?.dispatchedAt === undefined ? {} : { dispatchedAt: local.dispatchedAt }),
    };
    const done = await store.complete(requestId, outcome, async (cursor, tx) => {
      if (expectOrg !== undefined && expectOrg !== cursor.organizationId) {
        throw new DispatchError('ORG_MISMATCH', `result for ${requestId} belongs to another organization`);
      }
      await options.onResult({ cursor, result, tx });
    });
    reportedQueued.delete(requestId);
    reportedAgent.delete(requestId);
    // block() still running for it: it reports the completed cursor and forgets it then.
    if (local && dispatching.has(requestId)) local.completed = done.cursor;
    else watched.delete(requestId);
    if (!done.applied) return false;
    logger.info(
      { requestId, runId: done.cursor.runId, nodeId: done.cursor.nodeId, status: result.status, source: result.source },
      'result applied',
    );
    events.emit('applied', { cursor: done.cursor, result }, { requestId });
    return true;
  }

  async function deliver(result: StoredResult, source: ResultSource = 'deliver'): Promise<boolean> {
    const cursor = await store.get(result.requestId);
    if (cursor?.status !== 'blocked') return false;
    if (cursor.organizationId !== result.organizationId) {
      logger.warn({ requestId: result.requestId }, 'dropped a result whose organization does not match the cursor');
      return false;
    }
    return apply(cursor, fromStored(result, source), result.organizationId);
  }

  /** A published result: applied here only when this process watches its cursor (no store read). */
  function onPublished(result: StoredResult): void {
    const local = watched.get(result.requestId);
    if (!local || local.completed) return;
    if (local.cursor.organizationId !== result.organizationId) {
      logger.warn({ requestId: result.requestId }, 'dropped a result whose organization does not match the cursor');
      return;
    }
    track(
      pushLimiter.run(() =>
        apply(local.cursor, fromStored(result, 'push'), result.organizationId).catch((err: unknown) => {
          logger.warn({ requestId: result.requestId, err: (err as Error).message }, 'push delivery failed; polling will retry');
        }),
      ),
    );
  }

  /** Sends the request; a definitive refusal becomes the node's failed result. Returns false when it should be retried. */
  async function send(cursor: BlockedCursor, secret: string | undefined, validRequest?: DispatchRequest): Promise<boolean> {
    try {
      const answer = await client.dispatchAsync(
        validRequest ?? {
          organizationId: cursor.organizationId,
          requestId: cursor.requestId,
          kind: cursor.request.kind,
          payload: cursor.request.payload,
          ...(secret === undefined ? {} : { secret }),
          ...(cursor.request.selector ? { selector: cursor.request.selector } : {}),
          timeoutMs: cursor.request.timeoutMs,
          ...(cursor.request.queueTimeoutMs ? { queueTimeoutMs: cursor.request.queueTimeoutMs } : {}),
          ...(cursor.request.trace ? { trace: cursor.request.trace } : {}),
        },
      );
      if (answer.queued) {
        // Left undispatched on purpose: each poll re-dispatches the same id (never queued twice), which
        // rebuilds a queue lost with a gateway replica. The first answer that is not `queued` marks it.
        logger.info({ requestId: cursor.requestId, position: answer.position }, 'node queued by the gateway');
        if (answer.explanation && events.has('queued') && !reportedQueued.has(cursor.requestId)) {
          reportedQueued.add(cursor.requestId);
          const event = { cursor, position: answer.position ?? 1, explanation: answer.explanation };
          afterInsert(watched.get(cursor.requestId), () => events.emit('queued', event, { requestId: cursor.requestId }));
        }
        return true;
      }
      const local = watched.get(cursor.requestId);
      // First send from block(): remembered here, stored only if its first poll finds it still blocked.
      if (local && dispatching.has(cursor.requestId)) local.dispatchedAt = Date.now();
      else await store.markDispatched(cursor.requestId, Date.now());
      // Listeners and the queue's step read or write the cursor: not before it is in the store.
      if (answer.agentId) afterInsert(local, () => reportAgent(cursor, answer.agentId!, answer.agentName));
      // The gateway already holds a result (a repeated block after a crash): look at it now, not in pollMs.
      if (answer.cached)
        afterInsert(local, () => track(queue.schedule(cursor.requestId, Date.now(), { promote: true }).catch(() => undefined)));
      logger.debug({ requestId: cursor.requestId, dispatched: answer.dispatched, cached: answer.cached ?? false }, 'node dispatched');
      return true;
    } catch (err) {
      const info = errorInfo(err);
      const retry = info.retryable === true && (info.code !== 'NO_AGENT_AVAILABLE' || options.retryNoAgent === true);
      if (retry) {
        logger.warn({ requestId: cursor.requestId, code: info.code }, 'dispatch failed; will retry until the deadline');
        return false;
      }
      logger.warn({ requestId: cursor.requestId, code: info.code }, 'dispatch refused; failing the node');
      await apply(cursor, {
        requestId: cursor.requestId,
        status: 'failed',
        error: info,
        completedAt: Date.now(),
        source: 'dispatch',
      });
      return true;
    }
  }

  /** Reports the gateway's choice of agent as `dispatched`, once per request and process. */
  function reportAgent(cursor: BlockedCursor, agentId: string, agentName: string | undefined): void {
    if (!events.has('dispatched') || reportedAgent.has(cursor.requestId)) return;
    reportedAgent.add(cursor.requestId);
    events.emit('dispatched', { cursor, agentId, ...(agentName ? { agentName } : {}) }, { requestId: cursor.requestId });
  }

  async function step(requestId: string): Promise<ContinuationStep> {
    const cursor = await store.get(requestId);
    if (cursor?.status !== 'blocked') {
      watched.delete(requestId);
      return { done: true };
    }
    // Watched from now on: a push for a cursor left by a restarted worker is applied at once, not at the next poll.
    const local = watched.get(requestId);
    if (local) {
      local.cursor = cursor;
      local.queued = true;
    } else watched.set(requestId, { cursor, queued: true });
    if (cursor.dispatchedAt === null && local?.dispatchedAt !== undefined) {
      await store.markDispatched(requestId, local.dispatchedAt);
      cursor.dispatchedAt = local.dispatchedAt;
    }
    const result = await client.getResult(requestId).catch((err: unknown) => {
      logger.warn({ requestId, code: errorInfo(err).code }, 'result poll failed');
      return null;
    });
    if (result) {
      try {
        await deliver(result, 'poll');
        return { done: true };
      } catch (err) {
        // onResult (or the store) failed and rolled back: the cursor is still blocked, try again next poll.
        logger.warn({ requestId, err: (err as Error).message }, 'applying the result failed; retrying');
        return { done: false, retryAt: Date.now() + pollMs };
      }
    }
    const now = Date.now();
    if (now >= cursor.deadlineAt) {
      const error = {
        code: 'NODE_EXECUTION_TIMEOUT',
        message: `no result for ${requestId} within ${cursor.request.timeoutMs} ms`,
        // As in the catalogue: the action may still run or have had its effect, so no blind retry.
        retryable: false,
      };
      await apply(cursor, { requestId, status: 'failed', error, completedAt: now, source: 'timeout' });
      return { done: true };
    }
    if (cursor.dispatchedAt === null && !dispatching.has(requestId)) {
      // The process that blocked this run died before the gateway accepted it: send it again.
      const secret = options.resolveSecret ? await options.resolveSecret(cursor) : undefined;
      await send(cursor, secret);
    }
    return { done: false, retryAt: Math.min(Date.now() + pollMs, cursor.deadlineAt) };
  }

  async function block(input: BlockInput): Promise<BlockResult> {
    if (state !== 'running')
      throw new DispatchError('INTERNAL_ERROR', `continuation runner is ${state}, call start() first`, { retryable: false });
    if (!tracing) return blockTraced(input, undefined);
    const facts = {
      requestId: requestIdFor(input),
      organizationId: input.organizationId,
      kind: input.kind,
      runId: input.runId,
      nodeId: input.nodeId,
    };
    const span = tracing.start('vespid.continuation.block', facts);
    try {
      const blocked = await blockTraced(input, span.trace);
      const code = blocked.cursor.outcome?.errorCode;
      span.end(blocked.state, code ? { code } : undefined, { 'vespid.created': blocked.created });
      return blocked;
    } catch (err) {
      span.end('error', err);
      throw err;
    }
  }

  async function blockTraced(input: BlockInput, trace: TraceContext | undefined): Promise<BlockResult> {
    const requestId = requestIdFor(input);
    const timeoutMs = input.timeoutMs ?? nodeExecTimeoutMs;
    const queueTimeoutMs = input.queueTimeoutMs ?? 0;
    const parsed = DispatchRequestSchema.safeParse({
      organizationId: input.organizationId,
      requestId,
      kind: input.kind,
      payload: input.payload,
      ...(input.secret === undefined ? {} : { secret: input.secret }),
      ...(input.selector ? { selector: input.selector } : {}),
      timeoutMs,
      ...(queueTimeoutMs ? { queueTimeoutMs } : {}),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DispatchError('BAD_REQUEST', `invalid node request: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
    }
    const now = Date.now();
    const request = {
      kind: parsed.data.kind,
      payload: parsed.data.payload,
      selector: parsed.data.selector,
      timeoutMs,
      ...(queueTimeoutMs ? { queueTimeoutMs } : {}),
      ...(trace ? { trace } : {}),
    };
    const onBlocked = options.onBlocked;
    const fresh = {
      requestId,
      runId: input.runId,
      nodeId: input.nodeId,
      attempt: input.attempt,
      organizationId: input.organizationId,
      request: JSON.parse(JSON.stringify(request)),
      // Time in the gateway's queue comes before the node's own timeout.
      deadlineAt: now + queueTimeoutMs + timeoutMs + graceMs,
      createdAt: now,
      ...(input.data === undefined ? {} : { data: input.data }),
    };
    const insert = () => store.insert(fresh, onBlocked ? async (c, tx) => onBlocked({ cursor: c, tx }) : undefined);
    if (input.dispatchBeforeCommit && !trace && !watched.has(requestId)) {
      return blockSendingFirst(
        requestId,
        input.secret,
        parsed.data,
        { ...fresh, status: 'blocked', dispatchedAt: null, completedAt: null, outcome: null },
        insert,
      );
    }
    const { created, cursor } = await insert();
    if (cursor.status === 'completed') return { requestId, cursor, created, state: 'completed' };
    // The committed cursor is the continuation: from here on a crash is covered by the due sweep of
    // any worker (no queue job per node). Watched before the request leaves, so an early push applies.
    const local: Watched = watched.get(requestId) ?? { cursor };
    watched.set(requestId, local);
    dispatching.add(requestId);
    try {
      // The request block() parsed, sent as it is (the client does not parse it again); with a trace
      // context the request is rebuilt from the cursor and parsed by the client as usual.
      await send(cursor, input.secret, trace ? undefined : asValidatedRequest(parsed.data));
    } finally {
      dispatching.delete(requestId);
    }
    const completed = local.completed;
    if (completed) {
      watched.delete(requestId);
      return { requestId, cursor: completed, created, state: 'completed' };
    }
    return { requestId, cursor: { ...cursor, dispatchedAt: local.dispatchedAt ?? null }, created, state: 'blocked' };
  }

  /**
   * `dispatchBeforeCommit`: the request leaves while the cursor is inserted. Until the insert commits
   * the cursor is watched with `inserted` set, so a result that comes first waits for the row.
   */
  async function blockSendingFirst(
    requestId: string,
    secret: string | undefined,
    request: DispatchRequest,
    provisional: BlockedCursor,
    insert: () => Promise<{ created: boolean; cursor: BlockedCursor }>,
  ): Promise<BlockResult> {
    const local: Watched = { cursor: provisional };
    watched.set(requestId, local);
    dispatching.add(requestId);
    // The request first (its frame is written before send's first await), then the insert; nothing in
    // send() reaches the store before an await, by which time `inserted` is set.
    const sending = send(provisional, secret, asValidatedRequest(request)).finally(() => dispatching.delete(requestId));
    // Awaited below, after the insert: a rejection meanwhile is not unhandled.
    sending.catch(() => undefined);
    const inserting = insert();
    local.inserted = inserting;
    let inserted: { created: boolean; cursor: BlockedCursor };
    try {
      inserted = await inserting;
    } catch (err) {
      // No cursor: nothing may apply a result to it. The host blocks the attempt again (same request id).
      await sending.catch(() => undefined);
      if (watched.get(requestId) === local) watched.delete(requestId);
      throw err;
    }
    const { created, cursor } = inserted;
    local.cursor = cursor;
    delete local.inserted;
    if (cursor.status === 'completed') {
      // A repeated block of an attempt already applied: the gateway answers the re-send from the same
      // request, and its publication finds nothing watched.
      await sending.catch(() => undefined);
      watched.delete(requestId);
      return { requestId, cursor, created, state: 'completed' };
    }
    await sending;
    const completed = local.completed;
    if (completed) {
      watched.delete(requestId);
      return { requestId, cursor: completed, created, state: 'completed' };
    }
    return { requestId, cursor: { ...cursor, dispatchedAt: local.dispatchedAt ?? null }, created, state: 'blocked' };
  }

  /**
   * The one fallback for every blocked cursor: each `pollMs`, the cursors created since the previous
   * due sweep that are still blocked get a continuation due `pollMs` after their creation (what a
   * per-node delayed job used to do). Fast nodes complete before any sweep sees them, so they cost
   * no queue job at all. The window overlaps the previous one by `pollMs` (a cursor may commit a
   * little after its `createdAt`); anything later still is found by the full sweep.
   */
  async function sweepDue(): Promise<number> {
    const now = Date.now();
    const from = dueSweptUntil - pollMs;
    const seen = await sweepBlocked(store, queue, { createdAfter: from, createdBefore: now }, async (c) => {
      const local = watched.get(c.requestId);
      if (local) local.queued = true;
      // Other workers would re-send a cursor they see undispatched: store what only this process knows.
      if (c.dispatchedAt === null && local?.dispatchedAt !== undefined && !local.completed) {
        await store.markDispatched(c.requestId, local.dispatchedAt);
      }
      return Math.min(c.createdAt + pollMs, c.deadlineAt);
    });
    dueSweptUntil = now;
    // This process's own cursors whose insert committed too late for the window above (a slow
    // onBlocked): they are watched, so they are not left to the full sweep.
    for (const [id, w] of watched) {
      if (w.queued || w.completed || dispatching.has(id) || w.cursor.createdAt > now - pollMs) continue;
      w.queued = true;
      await queue.schedule(id, now);
    }
    // Cursors completed elsewhere (another worker polled them) are forgotten after their deadline.
    for (const [id, w] of watched) if (!dispatching.has(id) && w.cursor.deadlineAt + pollMs < now) watched.delete(id);
    return seen;
  }

  async function sweep({ promote = false } = {}): Promise<number> {
    const seen = await sweepBlocked(store, queue, {}, () => Date.now(), promote);
    if (seen) logger.debug({ blocked: seen, promote }, 'sweep');
    return seen;
  }

  async function start(): Promise<void> {
    if (state !== 'idle') return;
    state = 'running';
    try {
      await startParts();
    } catch (err) {
      // A half-started runner cannot be restarted (its queue is closed): fail loudly and leave nothing running.
      await close({ timeoutMs: 1000 });
      throw err;
    }
    logger.info({ queue: queue.name, push: subscription ? options.push?.name : false, pollMs }, 'continuation runner started');
  }

  async function startParts(): Promise<void> {
    await queue.start(step);
    if (options.push) {
      subscription = await options.push.subscribe({
        onResult: onPublished,
        onReconnect: () => {
          // Redis came back: a restart may have lost queued continuations and publications made meanwhile.
          // Re-queue every blocked cursor and look now instead of waiting for the deadline or the next sweep.
          if (state === 'running')
            track(sweep({ promote: true }).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'sweep failed')));
        },
      });
    }
    // Resume what a previous process left blocked, then keep checking for cursors that lost their continuation.
    await sweep({ promote: true });
    sweepTimer = setInterval(() => {
      if (state === 'running') track(sweep().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'sweep failed')));
    }, sweepIntervalMs);
    sweepTimer.unref();
    dueSweptUntil = Date.now();
    dueTimer = setInterval(() => {
      if (state === 'running') track(sweepDue().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'due sweep failed')));
    }, pollMs);
    dueTimer.unref();
  }

  function close({ timeoutMs = 5000 } = {}): Promise<void> {
    closing ??= (async () => {
      state = 'closing';
      if (sweepTimer) clearInterval(sweepTimer);
      if (dueTimer) clearInterval(dueTimer);
      await subscription?.close();
      await queue.close({ timeoutMs });
      await Promise.allSettled([...background]);
      state = 'closed';
    })();
    return closing;
  }

  return {
    start,
    block,
    deliver,
    sweep,
    get state() {
      return state;
    },
    get closed() {
      return state === 'closed';
    },
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
