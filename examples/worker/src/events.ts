import type { Pool, PoolClient } from '@vespid/example-db';
import type { ErrorInfo } from '@vespid/protocol';

/** Event types the worker appends to `workflow_run_events`. */
export type RunEventType =
  | 'run_started'
  | 'node_started'
  | 'node_dispatched'
  | 'node_queued'
  | 'node_succeeded'
  | 'node_failed'
  | 'node_retry_scheduled'
  | 'run_succeeded'
  | 'run_failed';

/**
 * The run's next event seq, as a SET item of an UPDATE of workflow_runs (`$1` = run id): kept in
 * `last_event_seq` (migration 0009) by the statement that appends the events, under the row lock the
 * UPDATE takes. Before the run's first worker event, max(seq) (the api's `run_queued`).
 */
const bumpSeq = (n: number) =>
  `last_event_seq = COALESCE(last_event_seq, (SELECT MAX(seq) FROM workflow_run_events WHERE run_id = $1), 0) + ${n}`;

/** Condition that skips an event row `e` when its node already has one of its type for its attempt. */
const ONCE_FOR_ATTEMPT = `NOT EXISTS (SELECT 1 FROM workflow_run_events x
   WHERE x.run_id = $1 AND x.type = e.type AND x.node_id = e.node_id AND x.payload->>'attempt' = e.payload->>'attempt')`;

/**
 * Appends one event, with the run's own change in the same statement (one round trip). The seq
 * comes from the run row's `last_event_seq`, which the statement's UPDATE bumps under the row lock,
 * so it is right whether or not the caller locked the run (`SELECT … FOR UPDATE`) first. `runUpdate.set`
 * is a SET list of workflow_runs whose parameters start at $6; `runUpdate.where` an extra condition on
 * the run (e.g. its status): when it does not hold, nothing is appended and the result is undefined.
 */
export async function appendEvent(
  tx: PoolClient,
  run: { id: string; organization_id: string },
  type: RunEventType,
  nodeId: string | null,
  payload: Record<string, unknown> = {},
  runUpdate?: { set?: string; where?: string; params?: unknown[] },
  /** Skip the event when this node already has one of this type for `payload.attempt` (the run update still runs). */
  onceForAttempt = false,
): Promise<number | undefined> {
  const { rows } = await tx.query<{ seq: number }>(
    `WITH run_update AS (
       UPDATE workflow_runs SET ${runUpdate?.set ? `${runUpdate.set}, ` : ''}${bumpSeq(1)}
        WHERE id = $1 AND organization_id = $2 ${runUpdate?.where ? `AND (${runUpdate.where})` : ''}
        RETURNING last_event_seq)
     INSERT INTO workflow_run_events (run_id, organization_id, seq, type, node_id, payload)
     SELECT $1, $2, run_update.last_event_seq, e.type, e.node_id, e.payload
       FROM run_update, (VALUES ($3::text, $4::text, $5::jsonb)) AS e(type, node_id, payload)
     ${onceForAttempt ? `WHERE ${ONCE_FOR_ATTEMPT}` : ''}
     RETURNING seq`,
    [run.id, run.organization_id, type, nodeId, JSON.stringify(payload), ...(runUpdate?.params ?? [])],
  );
  return rows[0]?.seq;
}

/** One event of {@link appendEvents}. */
export interface NewRunEvent {
  type: RunEventType;
  nodeId: string | null;
  payload: Record<string, unknown>;
  /** Skip this event when the node already has one of this type for `payload.attempt`. */
  onceForAttempt?: boolean;
}

/**
 * Appends several events (consecutive seqs, in order), the run's own change and, optionally, the
 * agent's name on a `node_dispatched` (as {@link nameDispatchAgent}) in one statement: a remote
 * node's result (`node_succeeded`, then `node_started` of the next node or `run_succeeded`) costs
 * one round trip instead of three. Seqs as in {@link appendEvent} (a skipped once-per-attempt event
 * leaves a gap). `runUpdate.set` gets the number of its first parameter (`$3` is the first event's
 * type, `$4` its node id), and so does `runUpdate.where`, a condition on the run: when it does not
 * hold, nothing is appended. Returns the number of events appended.
 */
export async function appendEvents(
  tx: PoolClient,
  run: { id: string; organization_id: string },
  events: readonly NewRunEvent[],
  runUpdate?: { set: (firstParam: number) => string; where?: (firstParam: number) => string; params?: unknown[] },
  nameAgent?: { requestId: string; agentId?: string | undefined; agentName?: string | undefined },
): Promise<number> {
  const params: unknown[] = [run.id, run.organization_id];
  const at = () => params.length; // the number of the parameter pushed last
  const rows = events.map((e, i) => {
    params.push(e.type, e.nodeId, JSON.stringify(e.payload));
    const n = at();
    return `(${i + 1}, $${n - 2}::text, $${n - 1}::text, $${n}::jsonb, ${e.onceForAttempt === true})`;
  });
  let set = bumpSeq(events.length);
  let where = '';
  if (runUpdate) {
    const first = at() + 1;
    params.push(...(runUpdate.params ?? []));
    set = `${runUpdate.set(first)}, ${set}`;
    if (runUpdate.where) where = `AND (${runUpdate.where(first)})`;
  }
  const ctes = [
    `run_update AS (UPDATE workflow_runs SET ${set} WHERE id = $1 AND organization_id = $2 ${where}
       RETURNING last_event_seq - ${events.length} AS seq)`,
  ];
  if (nameAgent?.agentId) {
    params.push(JSON.stringify({ agentId: nameAgent.agentId, ...(nameAgent.agentName ? { agentName: nameAgent.agentName } : {}) }));
    params.push(nameAgent.requestId);
    ctes.push(`named AS (UPDATE workflow_run_events SET payload = payload || $${at() - 1}::jsonb
      WHERE run_id = $1 AND organization_id = $2 AND type = 'node_dispatched' AND payload->>'requestId' = $${at()}
        AND NOT (payload ? 'agentId'))`);
  }
  const { rowCount } = await tx.query(
    `WITH ${ctes.join(',\n')}
     INSERT INTO workflow_run_events (run_id, organization_id, seq, type, node_id, payload)
     SELECT $1, $2, run_update.seq + e.ord, e.type, e.node_id, e.payload
       FROM run_update, (VALUES ${rows.join(', ')}) AS e(ord, type, node_id, payload, once)
      WHERE NOT e.once OR ${ONCE_FOR_ATTEMPT}`,
    params,
  );
  return rowCount ?? 0;
}

/** Whether an event of `type` exists for the node attempt (to keep `node_started` once per attempt). */
export async function hasNodeEvent(tx: PoolClient, runId: string, type: RunEventType, nodeId: string, attempt: number): Promise<boolean> {
  const { rowCount } = await tx.query(
    `SELECT 1 FROM workflow_run_events WHERE run_id = $1 AND type = $2 AND node_id = $3 AND payload->>'attempt' = $4 LIMIT 1`,
    [runId, type, nodeId, String(attempt)],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Milliseconds until the retry delay of `attempt` of a node has passed (0 when it has, or when the
 * attempt is not a scheduled retry). Measured on the database clock from the `node_retry_scheduled`
 * event (`delayMs`), so every worker process agrees and a restart does not shorten the wait.
 */
export async function retryWaitMs(tx: PoolClient, runId: string, nodeId: string, attempt: number): Promise<number> {
  const { rows } = await tx.query<{ wait_ms: number }>(
    `SELECT GREATEST(0, CEIL(EXTRACT(EPOCH FROM (created_at - clock_timestamp())) * 1000 + (payload->>'delayMs')::numeric))::int AS wait_ms
       FROM workflow_run_events
      WHERE run_id = $1 AND type = 'node_retry_scheduled' AND node_id = $2 AND payload->>'attempt' = $3
      ORDER BY seq DESC LIMIT 1`,
    [runId, nodeId, String(attempt)],
  );
  return rows[0]?.wait_ms ?? 0;
}

/**
 * Names the agent on the attempt's `node_dispatched` event (`agentId`, `agentName`). That event is
 * committed with the blocked cursor, before the request leaves, so the gateway's choice is filled in
 * afterwards: from its dispatch answer, or from the result when the node waited in the gateway's queue.
 * Only an event that names no agent yet is touched, so the first answer wins and repeats are no-ops.
 */
export async function nameDispatchAgent(
  db: Pool | PoolClient,
  run: { runId: string; organizationId: string; requestId: string },
  agent: { agentId?: string | undefined; agentName?: string | undefined },
): Promise<void> {
  if (!agent.agentId) return;
  const fields = { agentId: agent.agentId, ...(agent.agentName ? { agentName: agent.agentName } : {}) };
  await db.query(
    `UPDATE workflow_run_events SET payload = payload || $4::jsonb
      WHERE run_id = $1 AND organization_id = $2 AND type = 'node_dispatched' AND payload->>'requestId' = $3
        AND NOT (payload ? 'agentId')`,
    [run.runId, run.organizationId, run.requestId, JSON.stringify(fields)],
  );
}

/** A node attempt's outcome as the engine applies it (the gateway's stored result, or one the worker made). */
export interface NodeOutcome {
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: ErrorInfo | undefined;
  agentId?: string | undefined;
  agentName?: string | undefined;
  /** Epoch ms when the gateway assigned an agent (execution started). */
  assignedAt?: number | undefined;
  /** Epoch ms when the result was made. */
  completedAt?: number | undefined;
}

/**
 * Who ran a node attempt and how long it took, for `node_succeeded`/`node_failed` (and the run and
 * agent views that read them): `agentId`, `agentName`, `queuedMs` (dispatch → agent assigned),
 * `executingMs` (assigned → result) and `totalMs` (dispatch → result). `assignedAt` and `completedAt`
 * are the gateway's clock and the dispatch time the worker's, so a skew between hosts is clamped at 0
 * rather than shown as a negative duration. Fields that are unknown (a result the worker made) are left out.
 */
export function agentAndDurations(result: NodeOutcome, dispatch: { createdAt: number } | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (result.agentId) out.agentId = result.agentId;
  if (result.agentName) out.agentName = result.agentName;
  const ms = (n: number) => Math.max(0, Math.round(n));
  const end = result.completedAt;
  if (result.assignedAt !== undefined && end !== undefined) out.executingMs = ms(end - result.assignedAt);
  if (dispatch && end !== undefined) {
    // From the moment the worker handed the node over (the cursor is written just before the dispatch
    // call); `dispatchedAt` is when the gateway's answer came back, which is after an immediate assignment.
    const start = dispatch.createdAt;
    out.totalMs = ms(end - start);
    if (result.assignedAt !== undefined) out.queuedMs = Math.min(ms(result.assignedAt - start), out.totalMs);
  }
  return out;
}
