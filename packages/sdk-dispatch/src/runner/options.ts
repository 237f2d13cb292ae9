import type { ErrorInfo, Logger, PlacementExplanation, Selector, StoredResult } from '@vespid/protocol';
import type { DispatchClient } from '../client/dispatch-client.js';
import { DispatchError } from '../errors.js';
import type { ContinuationQueue } from '../queue/queue.js';
import type { ResultPush } from './result-push.js';
import type { BlockedCursor, CursorStore } from '../store/cursor.js';
import type { TracingOption } from '../tracing.js';

/**
 * Runbook defaults of the worker's env vars.
 *
 * @example
 * ```ts
 * CONTINUATION_DEFAULTS.pollMs; // 2000
 * ```
 */
export const CONTINUATION_DEFAULTS = {
  nodeExecTimeoutMs: 60_000,
  queueName: 'workflow-continuations',
  pollMs: 2_000,
  concurrency: 10,
} as const;

/**
 * How a result reached the runner.
 *
 * @example
 * ```ts
 * if (result.source === 'timeout') metrics.timeouts.inc();
 * ```
 */
export type ResultSource = 'push' | 'poll' | 'timeout' | 'dispatch' | 'deliver';

/**
 * The outcome handed to `onResult`: the gateway's stored result, or one the runner made (timeout, dispatch error).
 *
 * @example
 * ```ts
 * onResult: ({ result }) => result.status === 'failed' ? log(result.error?.code, result.source) : save(result.output)
 * ```
 */
export interface ContinuationResult {
  requestId: string;
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: ErrorInfo | undefined;
  agentId?: string | undefined;
  /** The agent's name, when the gateway reported it. */
  agentName?: string | undefined;
  /** Epoch ms (gateway clock) when an agent was assigned; absent for results the runner made. */
  assignedAt?: number | undefined;
  completedAt: number;
  source: ResultSource;
}

/**
 * What `onResult` receives. `tx` is the store's transaction: write your side effects through it.
 *
 * @example
 * ```ts
 * onResult: async ({ cursor, result, tx }: ResultEvent<pg.PoolClient>) => { await tx.query('…'); }
 * ```
 */
export interface ResultEvent<Tx> {
  cursor: BlockedCursor;
  result: ContinuationResult;
  tx: Tx;
}

/**
 * Options of `createContinuationRunner`.
 *
 * @example
 * ```ts
 * const options: ContinuationRunnerOptions<pg.PoolClient> = {
 *   client, store: postgresCursorStore({ pool }), queue: bullmqQueue({ connection: process.env.REDIS_URL! }),
 *   pollMs: 2000, nodeExecTimeoutMs: 60_000, concurrency: 10,
 *   onResult: async ({ cursor, result, tx }) => { await tx.query('…', [cursor.runId, result.status]); },
 * };
 * ```
 */
export interface ContinuationRunnerOptions<Tx> {
  /** The gateway client (`createDispatchClient` / `dispatchClientFromEnv`). Closed by the host, not the runner. */
  client: DispatchClient;
  /** Where blocked cursors live (`memoryCursorStore()`, `postgresCursorStore()`). */
  store: CursorStore<Tx>;
  /**
   * Called exactly once per request, inside the store's transaction: append `node_succeeded` /
   * `node_failed` and advance the run here. If it throws, nothing is committed and it is called again later.
   * An option rather than an event: it is the processing step (its writes commit with the cursor), not an
   * observation; `runner.on('applied')` observes the outcome after commit.
   */
  onResult: (event: ResultEvent<Tx>) => Promise<void> | void;
  /** Called inside the transaction that persists a new cursor (e.g. append `node_dispatched`). */
  onBlocked?: (event: { cursor: BlockedCursor; tx: Tx }) => Promise<void> | void;
  /**
   * Where continuations wait between checks: `bullmqQueue()` from `@vespid/sdk-dispatch/redis` (durable,
   * shared by every worker) or the default in-process queue (timers; a restarted worker finds its
   * cursors again by sweeping the store). @default inProcessQueue({ concurrency })
   */
  queue?: ContinuationQueue;
  /**
   * Where results are pushed the moment the gateway stores them: `redisResultPush()` from
   * `@vespid/sdk-dispatch/redis`. Without it the runner polls every `pollMs`.
   */
  push?: ResultPush;
  /** Continuations processed at once (`WORKFLOW_CONTINUATION_CONCURRENCY`). @default 10 */
  concurrency?: number;
  /** Result polling interval while blocked (`WORKFLOW_CONTINUATION_POLL_MS`). @default 2000 */
  pollMs?: number;
  /** Default node timeout, also sent to the gateway (`NODE_EXEC_TIMEOUT_MS`). @default 60000 */
  nodeExecTimeoutMs?: number;
  /** Extra wait after the node timeout, so the agent's own timeout error can arrive first. @default 1000 */
  deadlineGraceMs?: number;
  /** How often to look for blocked cursors without a continuation. @default min(30000, max(1000, nodeExecTimeoutMs / 4)) */
  sweepIntervalMs?: number;
  /** Returns the secret for a re-dispatch after a crash (secrets are never stored in cursors). */
  resolveSecret?: (cursor: BlockedCursor) => Promise<string | undefined> | string | undefined;
  /** Keep retrying `NO_AGENT_AVAILABLE` until the deadline instead of failing the node at once. @default false */
  retryNoAgent?: boolean;
  /**
   * Spans `vespid.continuation.block` (cursor + dispatch; parent: the active context of `block()`) and
   * `vespid.continuation.apply` (its child, when the result is applied, in whatever process). The
   * block span's context is kept in the cursor and sent as the request's `trace`. `true`: the global
   * tracer provider; `{ tracerProvider }`: that one. Needs the optional peer `@opentelemetry/api`. @default false
   */
  tracing?: TracingOption;
  logger?: Logger;
}

/**
 * Payload of the runner's `dispatched` event: the cursor and the agent the gateway chose.
 *
 * @example
 * ```ts
 * runner.on('dispatched', ({ cursor, agentId, agentName }) => log.info({ requestId: cursor.requestId, agentId, agentName }, 'assigned'));
 * ```
 */
export interface DispatchedEvent {
  cursor: BlockedCursor;
  agentId: string;
  agentName?: string | undefined;
}

/**
 * Payload of the runner's `queued` event: the gateway holds the request until an agent is eligible.
 *
 * @example
 * ```ts
 * runner.on('queued', ({ cursor, position, explanation }) => appendEvent(cursor.runId, 'node_queued', { position, explanation }));
 * ```
 */
export interface QueuedEvent {
  cursor: BlockedCursor;
  /** 1-based place in the organization's queue when the gateway answered. */
  position: number;
  explanation: PlacementExplanation;
}

/**
 * Payload of the runner's `applied` event: a result committed by `onResult`.
 *
 * @example
 * ```ts
 * runner.on('applied', ({ cursor, result }) => wakeRun(cursor.runId, result.status));
 * ```
 */
export interface AppliedEvent {
  cursor: BlockedCursor;
  result: ContinuationResult;
}

/**
 * The runner's events (`runner.on(event, listener)`): observations, each best effort and outside any
 * transaction. A listener that throws or rejects is logged; an async listener is awaited by `close()`.
 *
 * @example
 * ```ts
 * runner.on('applied', ({ cursor, result }) => metrics.resultApplied(cursor, result));
 * ```
 */
export interface ContinuationRunnerEvents {
  /**
   * The gateway queued the request (it carried `queueTimeoutMs` and no agent was eligible), with its
   * position and the placement explanation (e.g. append `node_queued`). Once per request and process
   * (a runner that took over after a crash reports it again).
   */
  queued: QueuedEvent;
  /**
   * The gateway answered with the agent it chose (`agentName` when the answering replica holds that
   * agent's session), e.g. to name the agent on `node_dispatched`. At most once per request and
   * process; a request queued by the gateway is reported when a later re-dispatch finds it assigned
   * (a result that arrives first names the agent anyway).
   */
  dispatched: DispatchedEvent;
  /** A result was committed (after `onResult`'s transaction; e.g. wake the run's next step). */
  applied: AppliedEvent;
}

/**
 * Input of `runner.block()`: the node attempt and the request to send.
 *
 * @example
 * ```ts
 * await runner.block({ organizationId: 'org1', runId: 'run7', nodeId: 'fetch', attempt: 0, kind: 'connector.action',
 *   payload: { connectorId: 'http', actionId: 'get', input: { url } }, secret, selector: { group: 'alpha' }, data: { secretId } });
 * ```
 */
export interface BlockInput {
  organizationId: string;
  runId: string;
  nodeId: string;
  attempt: number;
  kind: string;
  payload: unknown;
  /** Sent once to the gateway, never stored. */
  secret?: string | undefined;
  selector?: Selector | undefined;
  /** Node timeout. @default nodeExecTimeoutMs */
  timeoutMs?: number | undefined;
  /**
   * How long the gateway may hold the request waiting for an eligible agent before the node's timeout
   * starts; absent: `NO_AGENT_AVAILABLE` at once. The cursor's deadline grows by it. While the gateway
   * answers `queued`, every poll re-dispatches the same request id, so a queue lost with a gateway
   * (restart, kill -9) is rebuilt and the request still runs once.
   */
  queueTimeoutMs?: number | undefined;
  /** Host context stored with the cursor (JSON, no secrets). */
  data?: unknown;
  /**
   * Send the request while the cursor's insert is under way instead of after its commit, so the
   * insert's round trips leave the node's wall time. A result that arrives first is applied once the
   * insert committed. The price: the action may start before its cursor exists, so if the insert fails
   * or the process dies before the commit, the host must block the same attempt again (same request
   * id: the gateway answers from the running request or its stored result, the action is not run
   * twice). Use it only where that re-block is certain, e.g. for an attempt the host's own committed
   * transaction has just started, so no earlier cursor of it can exist. Ignored with `tracing` (the
   * request carries the block span, which is cursor data). @default false
   */
  dispatchBeforeCommit?: boolean | undefined;
}

/**
 * What `runner.block()` did.
 *
 * @example
 * ```ts
 * const { requestId, created, state } = await runner.block(input); // state: 'blocked' | 'completed'
 * ```
 */
export interface BlockResult {
  requestId: string;
  cursor: BlockedCursor;
  /** False when the cursor already existed (a repeated block of the same attempt). */
  created: boolean;
  /** `blocked`: waiting for the result; `completed`: a result was already applied. */
  state: 'blocked' | 'completed';
}

/**
 * Turns a gateway result into what `onResult` gets.
 *
 * @example
 * ```ts
 * const result = fromStored(await client.getResult(id), 'poll');
 * ```
 */
export function fromStored(result: StoredResult, source: ResultSource): ContinuationResult {
  return {
    requestId: result.requestId,
    status: result.status,
    ...(result.output === undefined ? {} : { output: result.output }),
    ...(result.error ? { error: result.error } : {}),
    ...(result.agentId ? { agentId: result.agentId } : {}),
    ...(result.agentName ? { agentName: result.agentName } : {}),
    ...(result.assignedAt !== undefined ? { assignedAt: result.assignedAt } : {}),
    completedAt: result.completedAt,
    source,
  };
}

function int(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DispatchError('BAD_REQUEST', `${name} must be an integer between ${min} and ${max}`);
  }
  return n;
}

/**
 * The runner options the runbook's worker env vars control.
 *
 * @example
 * ```ts
 * const { pollMs, queueName } = continuationOptionsFromEnv(process.env);
 * ```
 */
export interface ContinuationEnvOptions {
  nodeExecTimeoutMs: number;
  queueName: string;
  pollMs: number;
  concurrency: number;
}

/**
 * Reads `NODE_EXEC_TIMEOUT_MS` (60000), `WORKFLOW_CONTINUATION_QUEUE_NAME` (`workflow-continuations`),
 * `WORKFLOW_CONTINUATION_POLL_MS` (2000) and `WORKFLOW_CONTINUATION_CONCURRENCY` (10).
 *
 * @example
 * ```ts
 * const runner = createContinuationRunner({ client, store, onResult, ...continuationOptionsFromEnv(process.env) });
 * ```
 */
export function continuationOptionsFromEnv(env: Record<string, string | undefined> = process.env): ContinuationEnvOptions {
  const queueName = env.WORKFLOW_CONTINUATION_QUEUE_NAME?.trim() || CONTINUATION_DEFAULTS.queueName;
  if (queueName.includes(':') || queueName.length > 200) {
    throw new DispatchError('BAD_REQUEST', 'WORKFLOW_CONTINUATION_QUEUE_NAME must not contain ":" (BullMQ key separator)');
  }
  return {
    nodeExecTimeoutMs: int(env, 'NODE_EXEC_TIMEOUT_MS', CONTINUATION_DEFAULTS.nodeExecTimeoutMs, 1, 24 * 60 * 60 * 1000),
    queueName,
    pollMs: int(env, 'WORKFLOW_CONTINUATION_POLL_MS', CONTINUATION_DEFAULTS.pollMs, 10, 24 * 60 * 60 * 1000),
    concurrency: int(env, 'WORKFLOW_CONTINUATION_CONCURRENCY', CONTINUATION_DEFAULTS.concurrency, 1, 1000),
  };
}
