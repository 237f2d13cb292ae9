/**
 * The workflow engine: runs published workflows node by node. Cloud-mode nodes run here; node-mode
 * nodes go through sdk-dispatch's continuation runner: the run is parked on a blocked cursor and
 * `onResult` (inside the cursor's compare-and-set transaction) appends the terminal event and advances
 * the run, so a result is applied exactly once however often it is delivered.
 */
import { ErrorCodes, type ErrorInfo, type Logger, noopLogger } from '@vespid/protocol';
import type { Executor } from '@vespid/sdk-agent';
import type { BlockedCursor, ContinuationResult, ContinuationRunner, DispatchedEvent } from '@vespid/sdk-dispatch';
import { WorkflowDslSchema, type WorkflowNode } from '@vespid/example-api';
import type { Pool, PoolClient } from '@vespid/example-db';
import { type NodeOutcome, agentAndDurations, appendEvent, appendEvents, nameDispatchAgent, retryWaitMs } from './events.js';
import { nodeRequest } from './payloads.js';
import { isRetryableFailure } from './retry-policy.js';
import { inTransaction, loadDsl, lockRun, type RunRow } from './runs.js';
import { logNodeResult } from './result-log.js';

/** A unit of work on the run queue: continue this run from wherever it stands. */
export interface RunJob {
  runId: string;
  organizationId: string;
}

export interface EngineOptions {
  pool: Pool;
  /** Executors for cloud-mode nodes, by kind. */
  cloudExecutors: readonly Executor[];
  /** Decrypts a connector secret of the organization (never logged, never stored). */
  loadSecret: (organizationId: string, secretId: string) => Promise<string>;
  /** Puts a run back on the queue (after `delayMs`). `stepKey` makes the job id unique per step. */
  schedule: (job: RunJob, stepKey: string, delayMs?: number) => Promise<void>;
  nodeMaxAttempts: number;
  nodeRetryDelayMs: number;
  nodeExecTimeoutMs: number;
  /** How long the gateway may queue a remote node for an agent (WORKFLOW_NODE_QUEUE_TIMEOUT_MS); 0 = not at all. */
  nodeQueueTimeoutMs?: number;
  /** Why remote nodes cannot run when no runner is attached (e.g. GATEWAY_NOT_CONFIGURED). */
  remoteUnavailable?: ErrorInfo;
  /**
   * Runs continued in this process right after their remote result was applied here, at most this
   * many at once; beyond that (and while closing) the run goes back through the queue. 0 = always the queue.
   * @default 10
   */
  inProcessContinuations?: number;
  logger?: Logger;
}

export interface WorkflowEngine {
  /** Set once the continuation runner exists (the runner's callbacks point back here). */
  attachRunner(runner: ContinuationRunner): void;
  processRun(job: RunJob): Promise<void>;
  onBlocked(event: { cursor: BlockedCursor; tx: PoolClient }): Promise<void>;
  onResult(event: { cursor: BlockedCursor; result: ContinuationResult; tx: PoolClient }): Promise<void>;
  onApplied(event: { cursor: BlockedCursor; result: ContinuationResult }): void;
  /** The gateway named the agent it chose: record it on `node_dispatched`. */
  onDispatched(event: DispatchedEvent): Promise<void>;
  /** Stops continuing runs in-process (later ones go through the queue) and waits for those under way. */
  drain(): Promise<void>;
}

/** A node (attempt) whose `node_started` is committed: what a continuation runs first. */
interface NodeStep {
  node: WorkflowNode;
  attempt: number;
  /**
   * This process's own transaction appended the attempt's `node_started` (no earlier processor
   * started it, so it has no cursor yet): its request may leave before the cursor commits.
   */
  fresh?: boolean;
}

type Step =
  | { kind: 'done' }
  | ({ kind: 'node' } & NodeStep)
  /** The attempt's retry delay has not elapsed yet: the run waits on a delayed job, not in memory. */
  | { kind: 'wait'; node: WorkflowNode; attempt: number; delayMs: number };

/**
 * Job key of the delayed job that resumes `attempt` of a node after its retry delay. One key per
 * attempt, so every path that (re)arms the wait — the result callback, the engine loop, the sweeper —
 * adds the same job instead of one each.
 */
/**
 * How long the naming of the agent on `node_dispatched` waits for the node's result, which names it
 * in the same statement as `node_succeeded` (a fast node then costs no update of its own).
 */
const NAME_AGENT_AFTER_MS = 100;

const retryStepKey = (nodeId: string, attempt: number) => `retry-${nodeId}-a${attempt}`;

export function createWorkflowEngine(options: EngineOptions): WorkflowEngine {
  const logger = options.logger ?? noopLogger;
  const { pool } = options;
  const executors = new Map(options.cloudExecutors.map((e) => [e.kind, e]));
  let runner: ContinuationRunner | undefined;
  // One processor per run in this process; across processes the step-keyed job ids keep one job per step.
  const active = new Map<string, Promise<void>>();
  // onResult runs inside the cursor transaction; what to do next is only acted on in onApplied (after commit).
  const pendingAfterCommit = new Map<string, { delayMs: number; next?: NodeStep } | undefined>();
  // Runs continued in this process after a result applied here: the queue hand-off (a job add, a
  // worker fetch, a lock) cost more than the node itself. The queue stays the path when this is full,
  // while closing, after a failure here, and after a crash (the run sweeper).
  const inProcess = new Set<Promise<void>>();
  const inProcessLimit = options.inProcessContinuations ?? 10;
  let draining = false;
  // Requests whose node_dispatched onDispatched already named (in this process): no second update at the result.
  const namedAgent = new Set<string>();
  // Gateway answers whose naming waits NAME_AGENT_AFTER_MS for the result to name the agent instead.
  const pendingNames = new Map<string, { timer: NodeJS.Timeout; name: () => Promise<void> }>();
  async function nameNow(cursor: BlockedCursor, agent: { agentId: string; agentName?: string | undefined }): Promise<void> {
    try {
      await nameDispatchAgent(pool, cursor, agent);
    } catch (err) {
      logger.warn({ requestId: cursor.requestId, err: (err as Error).message }, 'could not name the agent on node_dispatched');
      return;
    }
    // Bounded: entries leave when the result is applied here; a result applied elsewhere leaves one behind.
    if (namedAgent.size < 10_000) namedAgent.add(cursor.requestId);
  }

  // Parsed DSL by published version (versions never change): validating a 50-node DSL on every run
  // lock was a visible share of a node's CPU, and so was reading it: a run whose version is parsed
  // here is locked without its DSL. Both maps are bounded by clearing, as a hot set refills at once.
  const parsedNodes = new Map<string, WorkflowNode[]>();
  const versionOfRun = new Map<string, string>();

  /** Locks the run (see lockRun) and returns it with its parsed nodes. */
  async function lock(tx: PoolClient, runId: string, organizationId: string): Promise<{ run: RunRow; nodes: WorkflowNode[] } | undefined> {
    const known = versionOfRun.get(runId);
    const run = await lockRun(tx, runId, organizationId, known !== undefined && parsedNodes.has(known) ? known : undefined);
    if (!run) return undefined;
    if (versionOfRun.size >= 10_000) versionOfRun.clear();
    versionOfRun.set(runId, run.version_id);
    const cached = parsedNodes.get(run.version_id);
    if (cached) return { run, nodes: cached };
    // Left out because this process knew the version, and the parsed copy was cleared meanwhile.
    const dsl = run.dsl ?? (await loadDsl(tx, run.version_id));
    const nodes = WorkflowDslSchema.parse(dsl).nodes;
    if (parsedNodes.size >= 1000) parsedNodes.clear();
    parsedNodes.set(run.version_id, nodes);
    return { run, nodes };
  }

  async function finishRun(tx: PoolClient, run: RunRow, status: 'succeeded' | 'failed', error?: ErrorInfo): Promise<void> {
    await appendEvent(tx, run, status === 'succeeded' ? 'run_succeeded' : 'run_failed', null, error ? { error } : {}, {
      set: `status = $6, error = $7, finished_at = now(), updated_at = now(),
            blocked_request_id = NULL, blocked_node_id = NULL, blocked_attempt = NULL, blocked_timeout_at = NULL`,
      params: [status, error ? JSON.stringify(error) : null],
    });
    versionOfRun.delete(run.id);
    logger.info({ runId: run.id, status, code: error?.code }, `run ${status}`);
  }

  /** Under the run lock: start the run if new, finish it if past the last node, else name the next node. */
  async function nextStep(job: RunJob): Promise<Step> {
    return inTransaction(pool, async (tx) => {
      const locked = await lock(tx, job.runId, job.organizationId);
      if (!locked) return { kind: 'done' };
      const { run, nodes } = locked;
      if (run.status === 'blocked' || run.status === 'succeeded' || run.status === 'failed') return { kind: 'done' };
      if (run.status === 'queued') {
        await appendEvent(tx, run, 'run_started', null, {}, { set: `status = 'running', updated_at = now()` });
      }
      const node = nodes[run.cursor_node_index];
      if (!node) {
        await finishRun(tx, run, 'succeeded');
        return { kind: 'done' };
      }
      // A retry runs only once its delay has passed, whoever picks the run up early (this loop right
      // after block() applied a refusal, a duplicate job, the sweeper, a restarted worker). The delay is
      // measured from the durable node_retry_scheduled event, so it holds across restarts.
      if (run.attempt > 0) {
        const delayMs = await retryWaitMs(tx, run.id, node.id, run.attempt);
        if (delayMs > 0) return { kind: 'wait', node, attempt: run.attempt, delayMs };
      }
      // Appended once per attempt, whoever processes the run again (a duplicate job, a restarted worker).
      const seq = await appendEvent(
        tx,
        run,
        'node_started',
        node.id,
        { attempt: run.attempt, type: node.type },
        { set: 'updated_at = now()' },
        true,
      );
      return { kind: 'node', node, attempt: run.attempt, fresh: seq !== undefined };
    });
  }

  /**
   * A node's success in one statement: `node_succeeded` and the run's advance, plus (with `startNext`)
   * `node_started` of the next node or the run's end, and the agent's name on `node_dispatched` when
   * not named yet. `guard` is a condition on the run (with its parameters); false when it did not hold.
   */
  async function succeed(
    tx: PoolClient,
    run: { id: string; organization_id: string },
    nodes: WorkflowNode[],
    index: number,
    where: { nodeId: string; attempt: number; requestId: string; expect: 'running' | 'blocked' },
    result: NodeOutcome,
    dispatch: { createdAt: number } | undefined,
    guard?: { where: (firstParam: number) => string; params: unknown[] },
    startNext = true,
  ): Promise<{ delayMs: number; next?: NodeStep } | undefined | false> {
    const base = { requestId: where.requestId, attempt: where.attempt, ...agentAndDurations(result, dispatch) };
    const unblock = 'blocked_request_id = NULL, blocked_node_id = NULL, blocked_attempt = NULL, blocked_timeout_at = NULL';
    const succeeded = { type: 'node_succeeded', nodeId: where.nodeId, payload: { ...base, output: result.output ?? null } } as const;
    // $4 is node_succeeded's node id; $p the output, then the guard's parameters.
    const advance = (p: number) => `cursor_node_index = cursor_node_index + 1, attempt = 0,
              node_outputs = node_outputs || jsonb_build_object($4::text, $${p}::jsonb), ${unblock}, updated_at = now()`;
    const params = [JSON.stringify(result.output ?? null), ...(guard?.params ?? [])];
    // Named here unless onDispatched named it already: a node that waited in the gateway's queue, or
    // whose result came before the naming, learns its agent only now. Checked after the guard held.
    const mayName = where.expect === 'blocked' && !namedAgent.has(where.requestId);
    const named = mayName ? { requestId: where.requestId, agentId: result.agentId, agentName: result.agentName } : undefined;
    // With startNext, in the same statement: finish the run, or start its next node, so the
    // continuation needs no transaction of its own before it runs that node.
    const following = startNext ? nodes[index + 1] : undefined;
    const last = startNext && !following;
    const events = last
      ? [succeeded, { type: 'run_succeeded', nodeId: null, payload: {} } as const]
      : following
        ? [
            succeeded,
            { type: 'node_started', nodeId: following.id, payload: { attempt: 0, type: following.type }, onceForAttempt: true } as const,
          ]
        : [succeeded];
    const set = last
      ? (p: number) => `status = 'succeeded', error = NULL, finished_at = now(), ${advance(p)}`
      : (p: number) => `status = 'running', ${advance(p)}`;
    const appended = await appendEvents(tx, run, events, { set, params, ...(guard ? { where: guard.where } : {}) }, named);
    if (appended === 0) return false;
    namedAgent.delete(where.requestId);
    if (last) {
      versionOfRun.delete(run.id);
      logger.info({ runId: run.id, status: 'succeeded' }, 'run succeeded');
      return undefined;
    }
    return following ? { delayMs: 0, next: { node: following, attempt: 0, fresh: true } } : { delayMs: 0 };
  }

  /**
   * Applies a node outcome under the run lock: terminal event, then advance, retry or fail the run.
   * Returns the delay before the run should continue, or undefined when there is nothing to continue.
   */
  async function applyOutcome(
    tx: PoolClient,
    where: { runId: string; organizationId: string; nodeId: string; attempt: number; requestId: string; expect: 'running' | 'blocked' },
    result: NodeOutcome,
    dispatch?: { createdAt: number },
    startNext = false,
  ): Promise<{ delayMs: number; next?: NodeStep } | undefined> {
    // A remote node's success in a run whose version this process knows needs no run lock first: the
    // statement's UPDATE checks what the lock was read for (still blocked on this request, at this
    // node and attempt). When it matches nothing, the locked path below decides, as for everything else.
    if (where.expect === 'blocked' && result.status === 'succeeded' && startNext) {
      const version = versionOfRun.get(where.runId);
      const known = version === undefined ? undefined : parsedNodes.get(version);
      const index = known?.findIndex((n) => n.id === where.nodeId) ?? -1;
      if (known && index >= 0) {
        const next = await succeed(tx, { id: where.runId, organization_id: where.organizationId }, known, index, where, result, dispatch, {
          where: (p) => `status = 'blocked' AND blocked_request_id = $${p + 1} AND cursor_node_index = $${p + 2} AND attempt = $${p + 3}`,
          params: [where.requestId, index, where.attempt],
        });
        if (next !== false) return next;
      }
    }
    const locked = await lock(tx, where.runId, where.organizationId);
    if (!locked) return undefined;
    const { run, nodes } = locked;
    if (run.status !== where.expect) return undefined;
    if (where.expect === 'blocked' && run.blocked_request_id !== where.requestId) return undefined;
    const node = nodes[run.cursor_node_index];
    if (!node || node.id !== where.nodeId || run.attempt !== where.attempt) return undefined;

    const base = { requestId: where.requestId, attempt: where.attempt, ...agentAndDurations(result, dispatch) };
    if (result.status === 'succeeded') {
      const next = await succeed(tx, run, nodes, run.cursor_node_index, where, result, dispatch, undefined, startNext);
      return next === false ? undefined : next;
    }
    // Name the agent on node_dispatched unless onDispatched did already (here): a node that waited in
    // the gateway's queue, or whose result beat the naming, learns its agent only now.
    const nameAgent = where.expect === 'blocked' && !namedAgent.delete(where.requestId);
    const unblock = 'blocked_request_id = NULL, blocked_node_id = NULL, blocked_attempt = NULL, blocked_timeout_at = NULL';
    if (nameAgent) await nameDispatchAgent(tx, where, result);
    const error: ErrorInfo = result.error ?? { code: ErrorCodes.INTERNAL_ERROR, message: 'node failed without an error' };
    const willRetry = isRetryableFailure(error, node) && where.attempt + 1 < options.nodeMaxAttempts;
    await appendEvent(tx, run, 'node_failed', node.id, { ...base, error: { code: error.code, message: error.message }, willRetry });
    if (!willRetry) {
      await finishRun(tx, run, 'failed', { code: error.code, message: error.message });
      return undefined;
    }
    const delayMs = options.nodeRetryDelayMs * 2 ** where.attempt;
    await appendEvent(
      tx,
      run,
      'node_retry_scheduled',
      node.id,
      { attempt: where.attempt + 1, delayMs, code: error.code },
      { set: `status = 'running', attempt = attempt + 1, ${unblock}, updated_at = now()` },
    );
    return { delayMs };
  }

  async function runCloud(job: RunJob, node: WorkflowNode, attempt: number): Promise<void> {
    const req = nodeRequest(node, { runId: job.runId, attempt });
    const requestId = `${job.runId}:${node.id}:${attempt}`;
    const executor = executors.get(req.kind);
    let result: { status: 'succeeded' | 'failed'; output?: unknown; error?: ErrorInfo };
    if (!executor) {
      result = {
        status: 'failed',
        error: {
          code: ErrorCodes.KIND_NOT_SUPPORTED,
          message: `the worker cannot run ${req.kind} in cloud mode; set execution.mode = "node"`,
        },
      };
    } else {
      const timeoutMs = req.timeoutMs ?? options.nodeExecTimeoutMs;
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const secret = req.secretId ? await options.loadSecret(job.organizationId, req.secretId) : undefined;
        result = await executor.execute(
          { requestId, organizationId: job.organizationId, kind: req.kind, payload: req.payload, timeoutMs },
          { signal, logger, secret, deadline: Date.now() + timeoutMs },
        );
      } catch (err) {
        const e = err as { code?: unknown; message?: unknown };
        result = {
          status: 'failed',
          error: { code: typeof e.code === 'string' ? e.code : ErrorCodes.INTERNAL_ERROR, message: String(e.message ?? err) },
        };
      }
    }
    const next = await inTransaction(pool, (tx) =>
      applyOutcome(
        tx,
        { runId: job.runId, organizationId: job.organizationId, nodeId: node.id, attempt, requestId, expect: 'running' },
        result,
      ),
    );
    if (next && next.delayMs > 0) await options.schedule(job, retryStepKey(node.id, attempt + 1), next.delayMs);
    else if (next) await process(job);
  }

  async function runRemote(job: RunJob, node: WorkflowNode, attempt: number, freshAttempt = false): Promise<boolean> {
    if (!runner) {
      // No gateway configured: the node fails with the runbook's code instead of hanging.
      const error = options.remoteUnavailable ?? {
        code: ErrorCodes.GATEWAY_NOT_CONFIGURED,
        message: 'GATEWAY_HTTP_URL and GATEWAY_SERVICE_TOKEN must be set in the worker environment',
      };
      const requestId = `${job.runId}:${node.id}:${attempt}`;
      await inTransaction(pool, (tx) =>
        applyOutcome(
          tx,
          { runId: job.runId, organizationId: job.organizationId, nodeId: node.id, attempt, requestId, expect: 'running' },
          { status: 'failed', error },
        ),
      );
      return false;
    }
    const req = nodeRequest(node, { runId: job.runId, attempt });
    let secret: string | undefined;
    if (req.secretId) {
      try {
        secret = await options.loadSecret(job.organizationId, req.secretId);
      } catch (err) {
        // A secret that fails authentication or is gone never loads: fail the node with its code. Thrown,
        // the run job was retried forever and the run stayed `running`. Other errors (Postgres down) retry.
        const e = err as { code?: unknown; message?: unknown };
        if (e.code !== ErrorCodes.SECRET_DECRYPT_FAILED && e.code !== 'NOT_FOUND') throw err;
        const requestId = `${job.runId}:${node.id}:${attempt}`;
        await inTransaction(pool, (tx) =>
          applyOutcome(
            tx,
            { runId: job.runId, organizationId: job.organizationId, nodeId: node.id, attempt, requestId, expect: 'running' },
            { status: 'failed', error: { code: e.code as string, message: String(e.message) } },
          ),
        );
        return false;
      }
    }
    const blocked = await runner.block({
      organizationId: job.organizationId,
      runId: job.runId,
      nodeId: node.id,
      attempt,
      kind: req.kind,
      payload: req.payload,
      secret,
      selector: req.selector,
      timeoutMs: req.timeoutMs,
      queueTimeoutMs: options.nodeQueueTimeoutMs,
      data: req.secretId ? { secretId: req.secretId } : undefined,
      // An attempt our own transaction just started has no cursor yet, and if this process dies before
      // the insert commits, the run sweeper blocks the same attempt again (same request id).
      dispatchBeforeCommit: freshAttempt,
    });
    // A result may already have been applied (a repeated block of the same attempt): keep going then.
    return blocked.state === 'completed';
  }

  async function process(job: RunJob, first?: NodeStep): Promise<void> {
    let started: Step | undefined = first ? { kind: 'node', ...first } : undefined;
    for (let guard = 0; guard < 10_000; guard++) {
      const step = started ?? (await nextStep(job));
      started = undefined;
      if (step.kind === 'done') return;
      if (step.kind === 'wait') {
        // Usually already armed by onApplied/runCloud (same key, so this adds nothing); re-armed here
        // when the job was lost (in-process queue and a restart) and the sweeper found the run.
        await options.schedule(job, retryStepKey(step.node.id, step.attempt), step.delayMs);
        return;
      }
      const mode = step.node.config.execution?.mode ?? 'cloud';
      if (mode === 'cloud') return runCloud(job, step.node, step.attempt);
      const keepGoing = await runRemote(job, step.node, step.attempt, step.fresh === true);
      if (!keepGoing) return;
    }
  }

  /** One processor per run in this process: a queue job and an in-process continuation of the same run take turns. */
  async function processRun(job: RunJob, first?: NodeStep): Promise<void> {
    const prev = active.get(job.runId);
    // `first` was decided under the run lock by the result's transaction; if another processor of this
    // run (a queue job) is ahead of us, the run may have moved on: look it up again instead.
    const from = prev ? undefined : first;
    const next = (prev ?? Promise.resolve()).catch(() => {}).then(() => process(job, from));
    active.set(job.runId, next);
    try {
      await next;
    } finally {
      if (active.get(job.runId) === next) active.delete(job.runId);
    }
  }

  function enqueue(job: RunJob, stepKey: string, delayMs: number): void {
    options.schedule(job, stepKey, delayMs).catch((err: unknown) => {
      logger.error(
        { runId: job.runId, err: (err as Error).message },
        'could not schedule the run after a result; the sweeper will resume it',
      );
    });
  }

  /** Continues a run whose result was just committed: here when there is room, else through the queue. */
  function continueRun(job: RunJob, stepKey: string, first: NodeStep | undefined): void {
    if (draining || inProcess.size >= inProcessLimit) {
      enqueue(job, stepKey, 0);
      return;
    }
    const p = processRun(job, first).catch((err: unknown) => {
      logger.warn({ runId: job.runId, err: (err as Error).message }, 'in-process continuation failed; the queue takes the run');
      enqueue(job, stepKey, 0);
    });
    inProcess.add(p);
    void p.finally(() => inProcess.delete(p));
  }

  return {
    attachRunner(r) {
      runner = r;
    },
    processRun,
    async drain() {
      draining = true;
      const names = [...pendingNames.values()];
      pendingNames.clear();
      for (const n of names) clearTimeout(n.timer);
      await Promise.allSettled(names.map((n) => n.name()));
      while (inProcess.size > 0) await Promise.allSettled([...inProcess]);
    },
    async onBlocked({ cursor, tx }) {
      // No separate run lock: the statement's UPDATE takes it, checks the run still runs (else nothing
      // is appended) and numbers the event under it (see appendEvent).
      const run = { id: cursor.runId, organization_id: cursor.organizationId };
      await appendEvent(
        tx,
        run,
        'node_dispatched',
        cursor.nodeId,
        { requestId: cursor.requestId, kind: cursor.request.kind, attempt: cursor.attempt },
        {
          // $4 is the event's node id, the cursor's node.
          set: `status = 'blocked', blocked_request_id = $6, blocked_node_id = $4, blocked_attempt = $7,
                blocked_timeout_at = to_timestamp($8::double precision / 1000), updated_at = now()`,
          where: `status = 'running'`,
          params: [cursor.requestId, cursor.attempt, cursor.deadlineAt],
        },
      );
    },
    async onResult({ cursor, result, tx }) {
      const next = await applyOutcome(
        tx,
        {
          runId: cursor.runId,
          organizationId: cursor.organizationId,
          nodeId: cursor.nodeId,
          attempt: cursor.attempt,
          requestId: cursor.requestId,
          expect: 'blocked',
        },
        result,
        { createdAt: cursor.createdAt },
        true,
      );
      // Remember what to do after commit; onApplied runs only once the transaction is durable.
      pendingAfterCommit.set(cursor.requestId, next);
    },
    async onDispatched({ cursor, agentId, agentName }) {
      // Deferred: most results arrive within milliseconds, and the result's own statement names the
      // agent then (one round trip less per node); a node still running after NAME_AGENT_AFTER_MS is
      // named by its own update, as before.
      if (draining) return nameNow(cursor, { agentId, agentName });
      if (pendingNames.has(cursor.requestId)) return;
      const timer = setTimeout(() => {
        pendingNames.delete(cursor.requestId);
        void nameNow(cursor, { agentId, agentName });
      }, NAME_AGENT_AFTER_MS);
      timer.unref();
      pendingNames.set(cursor.requestId, { timer, name: () => nameNow(cursor, { agentId, agentName }) });
    },
    onApplied({ cursor, result }) {
      // The result's transaction named the agent (see applyOutcome): nothing left to name.
      const pendingName = pendingNames.get(cursor.requestId);
      if (pendingName) {
        clearTimeout(pendingName.timer);
        pendingNames.delete(cursor.requestId);
      }
      void logNodeResult({ pool, logger }, cursor, result);
      const next = pendingAfterCommit.get(cursor.requestId);
      pendingAfterCommit.delete(cursor.requestId);
      if (!next) return;
      const job = { runId: cursor.runId, organizationId: cursor.organizationId };
      if (next.delayMs > 0) enqueue(job, retryStepKey(cursor.nodeId, cursor.attempt + 1), next.delayMs);
      else continueRun(job, `after-${cursor.nodeId}-a${cursor.attempt}`, next.next);
    },
  };
}
