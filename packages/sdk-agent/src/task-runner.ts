import {
  childLogger,
  type ErrorInfo,
  ErrorCodeSchema,
  type Execute,
  type ExecuteResultMessage,
  LIMITS,
  type Logger,
} from '@vespid/protocol';
import pLimit, { type LimitFunction } from 'p-limit';
import { AgentError, toErrorInfo } from './errors.js';
import type { Executor, ExecutorResult } from './executor.js';
import { redactSecret } from './redact.js';
import type { AgentTracing } from './tracing.js';

/** Explicit state of one accepted task. Removed from the map in `finally`. */
interface TaskState {
  readonly requestId: string;
  readonly kind: string;
  readonly controller: AbortController;
  status: 'queued' | 'running';
}

/** Lifecycle notifications of the runner (mapped to the agent's public events). */
export interface TaskRunnerHooks {
  onStarted(info: { requestId: string; kind: string }): void;
  onFinished(result: ExecuteResultMessage, info: { kind: string; durationMs: number }): void;
}

/** Options of {@link TaskRunner}. */
export interface TaskRunnerOptions {
  executors: ReadonlyMap<string, Executor>;
  maxInFlight: number;
  logger: Logger;
  workdir?: string | undefined;
  maxResultBytes: number;
  /** How long an aborted executor may keep its concurrency slot before it is reclaimed. */
  abortGraceMs: number;
  hooks: TaskRunnerHooks;
  /** Spans per task; null/absent when tracing is off. */
  tracing?: AgentTracing | null | undefined;
}

/**
 * Runs accepted tasks with at most `maxInFlight` executing at once (p-limit), each with its own
 * AbortController linked to its timeout, a gateway `cancel` and shutdown. Always produces exactly one
 * result per accepted task, whatever the executor does.
 */
export class TaskRunner {
  readonly #o: TaskRunnerOptions;
  readonly #limit: LimitFunction;
  readonly #tasks = new Map<string, TaskState>();
  readonly #settled = new Set<Promise<void>>();

  constructor(options: TaskRunnerOptions) {
    this.#o = options;
    this.#limit = pLimit(options.maxInFlight);
  }

  /** Tasks accepted and not yet finished (queued or running). */
  get size(): number {
    return this.#tasks.size;
  }

  /** Tasks whose executor is running right now (never above `maxInFlight`). */
  get running(): number {
    return this.#limit.activeCount;
  }

  has(requestId: string): boolean {
    return this.#tasks.has(requestId);
  }

  /** Accepts a task; the result arrives through `hooks.onFinished`. */
  accept(frame: Execute): void {
    const { requestId, kind } = frame;
    const controller = new AbortController();
    const state: TaskState = { requestId, kind, controller, status: 'queued' };
    this.#tasks.set(requestId, state);
    const acceptedAt = Date.now();
    const deadline = acceptedAt + frame.timeoutMs;
    const timer = setTimeout(
      () =>
        controller.abort(
          new AgentError('NODE_EXECUTION_TIMEOUT', `${kind} did not finish within ${frame.timeoutMs} ms`, { retryable: false }),
        ),
      frame.timeoutMs,
    );
    // Secret stays in this closure for the request only; it is not stored on the task state.
    const secret = frame.secret;
    const logger = childLogger(this.#o.logger, { requestId, kind });
    const trace = this.#o.tracing?.task(frame);
    let settle!: () => void;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    let reported = false;
    // Exactly one result per task: the first of "executor returned" and "signal fired" wins.
    const report = (result: ExecutorResult) => {
      if (reported) return;
      reported = true;
      clearTimeout(timer);
      this.#tasks.delete(requestId);
      const message = toResultMessage(requestId, result, secret, this.#o.maxResultBytes);
      trace?.finished(message);
      logger.info({ status: message.status, code: message.error?.code, durationMs: Date.now() - acceptedAt }, 'task finished');
      try {
        this.#o.hooks.onFinished(message, { kind, durationMs: Date.now() - acceptedAt });
      } finally {
        settle();
      }
    };
    // Reported at once even while queued: a cancel or shutdown must not wait for a free slot.
    controller.signal.addEventListener('abort', () => report(abortedResult(controller.signal)), { once: true });
    void this.#limit(async () => {
      if (reported) return;
      state.status = 'running';
      this.#o.hooks.onStarted({ requestId, kind });
      const executor = this.#o.executors.get(kind);
      if (!executor) {
        report(failed(new AgentError('KIND_NOT_SUPPORTED', `this agent has no executor for kind ${kind}`)));
        return;
      }
      const task = { requestId, organizationId: frame.organizationId, kind, payload: frame.payload, timeoutMs: frame.timeoutMs };
      const run = () =>
        Promise.resolve().then(() =>
          executor.execute(task, { signal: controller.signal, logger, secret, workdir: this.#o.workdir, deadline }),
        );
      const execution = (trace ? trace.executor(run) : run()).catch((err: unknown) => failed(err));
      // The slot stays taken until the executor really returns, so maxInFlight bounds real work; an
      // executor that ignores its signal gets a grace period, then its slot is reclaimed (and logged).
      const grace = new Promise<'ignored'>((resolve) => {
        const arm = () => setTimeout(() => resolve('ignored'), this.#o.abortGraceMs).unref?.();
        if (controller.signal.aborted) arm();
        else controller.signal.addEventListener('abort', arm, { once: true });
      });
      const outcome = await Promise.race([execution, grace]);
      if (outcome === 'ignored') {
        logger.warn({ graceMs: this.#o.abortGraceMs }, 'executor ignored its abort signal; releasing its slot');
        return;
      }
      report(controller.signal.aborted ? abortedResult(controller.signal) : outcome);
    }).catch((err: unknown) => report(failed(err)));
    this.#settled.add(done);
    void done.finally(() => this.#settled.delete(done));
  }

  /** Aborts one task (gateway `cancel`). Returns whether it was known. */
  cancel(requestId: string, reason: string): boolean {
    const state = this.#tasks.get(requestId);
    if (!state) return false;
    state.controller.abort(new AgentError('TASK_CANCELLED', `cancelled by the gateway: ${reason.slice(0, 200)}`));
    return true;
  }

  /** Aborts every task with `AGENT_SHUTDOWN`. */
  abortAll(message: string): void {
    for (const s of this.#tasks.values()) s.controller.abort(new AgentError('AGENT_SHUTDOWN', message, { retryable: true }));
  }

  /** Resolves when every accepted task has produced its result, or when `signal` aborts. */
  async idle(signal?: AbortSignal): Promise<void> {
    while (this.#settled.size > 0 && !signal?.aborted) {
      const wait = Promise.allSettled([...this.#settled]);
      if (!signal) await wait;
      else await Promise.race([wait, new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    }
  }
}

function failed(err: unknown): ExecutorResult {
  return { status: 'failed', error: toErrorInfo(err) };
}

function abortedResult(signal: AbortSignal): ExecutorResult {
  const reason = signal.reason;
  return failed(reason instanceof AgentError ? reason : new AgentError('TASK_CANCELLED', 'task aborted'));
}

function sanitizeError(error: ErrorInfo | undefined): ErrorInfo {
  if (!error || !ErrorCodeSchema.safeParse(error.code).success) {
    return { code: 'INTERNAL_ERROR', message: error?.message?.slice(0, 500) ?? 'executor failed without an error' };
  }
  return { ...error, message: error.message.slice(0, LIMITS.errorMessageLength) };
}

/** Builds the wire result: secret scrubbed, error shaped, output JSON-safe and within the frame limit. */
function toResultMessage(requestId: string, result: ExecutorResult, secret: string | undefined, maxBytes: number): ExecuteResultMessage {
  let message: ExecuteResultMessage =
    result.status === 'succeeded'
      ? { type: 'execute_result', requestId, status: 'succeeded', output: result.output }
      : { type: 'execute_result', requestId, status: 'failed', error: sanitizeError(result.error), output: result.output };
  if (message.output === undefined) delete message.output;
  message = redactSecret(message, secret);
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(message));
  } catch {
    return {
      type: 'execute_result',
      requestId,
      status: 'failed',
      error: { code: 'INTERNAL_ERROR', message: 'task output is not JSON-serializable' },
    };
  }
  if (size > maxBytes) {
    return {
      type: 'execute_result',
      requestId,
      status: 'failed',
      error: { code: 'INTERNAL_ERROR', message: `task result is ${size} bytes, above the ${maxBytes}-byte frame limit` },
    };
  }
  return message;
}
