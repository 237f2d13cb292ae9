// #region engine
import type { ErrorInfo } from '@vespid/protocol';
import { type MemoryTx, createContinuationRunner, createDispatchClient, memoryCursorStore } from '@vespid/sdk-dispatch';

/** One remote step of a run. */
export interface RemoteStep {
  id: string;
  kind: string;
  payload: unknown;
  /** Sent to the agent for this request only; never stored in the cursor. */
  secret?: string;
}

/**
 * A run of the tiny engine: its steps, what each produced, and the event log.
 *
 * @example
 * ```ts
 * const run: RunRecord = await engine.finished('run-1');
 * ```
 */
export interface RunRecord {
  organizationId: string;
  runId: string;
  steps: RemoteStep[];
  status: 'running' | 'succeeded' | 'failed';
  outputs: Record<string, unknown>;
  error?: ErrorInfo | undefined;
  events: string[];
}

/**
 * Your own workflow engine on top of `@vespid/sdk-dispatch`: each step is dispatched to a node-agent
 * and the run is parked on a blocked cursor; the continuation runner resumes it exactly once when the
 * result arrives (polling here; `queue` and `push` from `@vespid/sdk-dispatch/redis` add a durable queue
 * and Redis push; `NODE_EXECUTION_TIMEOUT` at the deadline). This one keeps runs in memory; a real engine uses `postgresCursorStore` and writes its
 * events through the `tx` it receives, so the cursor and the run advance commit together.
 *
 * @example
 * ```ts
 * const engine = createTinyEngine({ gatewayHttpUrl: process.env.GATEWAY_HTTP_URL!, serviceToken: process.env.GATEWAY_SERVICE_TOKEN! });
 * await engine.start();
 * await engine.run({ organizationId: 'acme', runId: 'run-1', steps: [{ id: 'fetch', kind: 'connector.action', payload }] });
 * const record = await engine.finished('run-1');
 * ```
 */
export function createTinyEngine(options: { gatewayHttpUrl: string; serviceToken: string; pollMs?: number }) {
  const runs = new Map<string, RunRecord>();
  const waiters = new Map<string, (run: RunRecord) => void>();
  const client = createDispatchClient({ gatewayHttpUrl: options.gatewayHttpUrl, serviceToken: options.serviceToken });

  const runner = createContinuationRunner<MemoryTx>({
    client,
    store: memoryCursorStore(),
    pollMs: options.pollMs ?? 2_000,
    onBlocked: ({ cursor, tx }) => tx.onCommit(() => runs.get(cursor.runId)?.events.push(`node_dispatched:${cursor.nodeId}`)),
    // Called exactly once per step attempt, whichever way the result came (push, poll, timeout).
    onResult: ({ cursor, result, tx }) => tx.onCommit(() => void advance(cursor.runId, cursor.nodeId, result)),
  });

  async function advance(
    runId: string,
    stepId: string,
    result: { status: 'succeeded' | 'failed'; output?: unknown; error?: ErrorInfo | undefined },
  ) {
    const run = runs.get(runId);
    if (!run) return;
    run.events.push(`node_${result.status}:${stepId}`);
    if (result.status === 'failed') return finish(run, 'failed', result.error);
    run.outputs[stepId] = result.output;
    const next = run.steps[run.steps.findIndex((s) => s.id === stepId) + 1];
    if (!next) return finish(run, 'succeeded');
    await block(run, next);
  }

  function block(run: RunRecord, step: RemoteStep) {
    return runner.block({
      organizationId: run.organizationId,
      runId: run.runId,
      nodeId: step.id,
      attempt: 0,
      kind: step.kind,
      payload: step.payload,
      ...(step.secret ? { secret: step.secret } : {}),
    });
  }

  function finish(run: RunRecord, status: 'succeeded' | 'failed', error?: ErrorInfo) {
    run.status = status;
    run.error = error;
    waiters.get(run.runId)?.(run);
  }

  return {
    start: () => runner.start(),
    async run(input: { organizationId: string; runId: string; steps: RemoteStep[] }): Promise<void> {
      const run: RunRecord = { ...input, status: 'running', outputs: {}, events: [] };
      runs.set(run.runId, run);
      const first = run.steps[0];
      if (first) await block(run, first);
      else finish(run, 'succeeded');
    },
    finished(runId: string): Promise<RunRecord> {
      const run = runs.get(runId);
      if (run && run.status !== 'running') return Promise.resolve(run);
      return new Promise((resolve) => waiters.set(runId, resolve));
    },
    async close(): Promise<void> {
      await runner.close({ timeoutMs: 5_000 });
      await client.close();
    },
  };
}
// #endregion engine
