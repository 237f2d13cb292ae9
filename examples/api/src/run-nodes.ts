/**
 * The nodes of one run as the run view shows them: for each node of the run's workflow version, its
 * status, the agent of its last attempt, how many attempts it took and the durations the worker wrote
 * into `node_succeeded`/`node_failed` (queued, executing, total). Built from the run's events, which
 * are the record; nothing is stored twice.
 */
import type { Pool } from '@vespid/example-db';

/** One node of a run. @example `const slow = nodes.filter((n) => (n.durations?.totalMs ?? 0) > 60_000)` */
export interface RunNodeView {
  id: string;
  type: string;
  /** `pending` (not reached), `running`, `queued` (waiting for an agent), `dispatched`, `succeeded`, `failed`. */
  status: 'pending' | 'running' | 'queued' | 'dispatched' | 'succeeded' | 'failed';
  /** Attempts started (1 once it ran once). */
  attempts: number;
  agent: { id: string; name: string | null } | null;
  durations: { queuedMs: number | null; executingMs: number | null; totalMs: number | null } | null;
  error: { code: string; message: string } | null;
  requestId: string | null;
}

interface EventRow {
  type: string;
  node_id: string;
  payload: Record<string, unknown>;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** Folds the node events of a run (in `seq` order) onto the nodes of its DSL. */
export function foldRunNodes(nodes: Array<{ id: string; type: string }>, events: EventRow[]): RunNodeView[] {
  const views = new Map<string, RunNodeView>(
    nodes.map((n) => [
      n.id,
      { id: n.id, type: n.type, status: 'pending', attempts: 0, agent: null, durations: null, error: null, requestId: null },
    ]),
  );
  for (const e of events) {
    const v = views.get(e.node_id);
    if (!v) continue;
    const p = e.payload ?? {};
    switch (e.type) {
      case 'node_started': {
        v.attempts = Math.max(v.attempts, (num(p.attempt) ?? 0) + 1);
        v.status = 'running';
        v.error = null;
        break;
      }
      case 'node_dispatched':
        v.status = 'dispatched';
        v.requestId = str(p.requestId);
        break;
      case 'node_queued':
        if (v.status === 'dispatched') v.status = 'queued';
        break;
      case 'node_succeeded':
      case 'node_failed': {
        v.status = e.type === 'node_succeeded' ? 'succeeded' : 'failed';
        v.requestId = str(p.requestId) ?? v.requestId;
        const agentId = str(p.agentId);
        v.agent = agentId ? { id: agentId, name: str(p.agentName) } : null;
        const totalMs = num(p.totalMs);
        const executingMs = num(p.executingMs);
        const queuedMs = num(p.queuedMs);
        v.durations = totalMs === null && executingMs === null ? null : { queuedMs, executingMs, totalMs };
        const err = p.error as { code?: unknown; message?: unknown } | undefined;
        v.error = err && typeof err.code === 'string' ? { code: err.code, message: String(err.message ?? '') } : null;
        break;
      }
      default:
        break;
    }
  }
  return [...views.values()];
}

/** Reads the run's DSL nodes and events and folds them. */
export async function loadRunNodes(pool: Pool, organizationId: string, runId: string, dsl: unknown): Promise<RunNodeView[]> {
  const nodes = Array.isArray((dsl as { nodes?: unknown } | null)?.nodes)
    ? ((dsl as { nodes: Array<{ id: string; type: string }> }).nodes ?? [])
    : [];
  const { rows } = await pool.query<EventRow>(
    `SELECT type, node_id, payload FROM workflow_run_events
      WHERE organization_id = $1 AND run_id = $2 AND node_id IS NOT NULL ORDER BY seq`,
    [organizationId, runId],
  );
  return foldRunNodes(nodes, rows);
}
