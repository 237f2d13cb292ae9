/**
 * Runs: start a run of the latest published version (row + `run_queued` event committed together,
 * then handed to the run queue), read its status, and page through its events by `seq`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { orgOf, requireOrg } from '../auth.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { idParam, parseOr } from '../http.js';
import { loadRunNodes } from '../run-nodes.js';
import { inTransaction } from '../users.js';

const RunBodySchema = z
  .strictObject({
    input: z.record(z.string(), z.unknown()).optional(),
    /** A specific published version; default the latest. */
    version: z.number().int().min(1).optional(),
  })
  .optional();

const EventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

interface RunRow {
  id: string;
  workflow_id: string;
  version_id: string;
  version: number;
  status: string;
  input: unknown;
  attempt: number;
  cursor_node_index: number;
  node_outputs: unknown;
  blocked_request_id: string | null;
  blocked_node_id: string | null;
  blocked_attempt: number | null;
  blocked_timeout_at: Date | null;
  error: unknown;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  dsl: unknown;
}

const SELECT_RUN = `SELECT r.id, r.workflow_id, r.version_id, v.version, r.status, r.input, r.attempt, r.cursor_node_index,
  r.node_outputs, r.blocked_request_id, r.blocked_node_id, r.blocked_attempt, r.blocked_timeout_at, r.error,
  r.created_at, r.updated_at, r.finished_at, v.dsl
  FROM workflow_runs r JOIN workflow_versions v ON v.id = r.version_id AND v.organization_id = r.organization_id`;

function runView(row: RunRow) {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    versionId: row.version_id,
    version: row.version,
    status: row.status,
    input: row.input,
    attempt: row.attempt,
    cursorNodeIndex: row.cursor_node_index,
    nodeOutputs: row.node_outputs,
    blocked: row.blocked_request_id
      ? {
          requestId: row.blocked_request_id,
          nodeId: row.blocked_node_id,
          attempt: row.blocked_attempt,
          timeoutAt: row.blocked_timeout_at?.toISOString() ?? null,
        }
      : null,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

/** Registers the run routes. */
export function runRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger, runQueue } = ctx;
  const members = requireOrg(pool);

  app.post('/v1/orgs/:orgId/workflows/:workflowId/runs', { preHandler: members }, async (request, reply) => {
    const { organizationId } = orgOf(request);
    const workflowId = idParam(request.params, 'workflowId', 'workflow');
    const body = parseOr(RunBodySchema, request.body ?? undefined) ?? {};
    const run = await inTransaction(pool, async (client) => {
      const wf = await client.query('SELECT 1 FROM workflows WHERE organization_id = $1 AND id = $2', [organizationId, workflowId]);
      if (!wf.rowCount) throw new ApiError('NOT_FOUND', 'workflow not found');
      const v = await client.query<{ id: string; version: number }>(
        `SELECT id, version FROM workflow_versions WHERE organization_id = $1 AND workflow_id = $2 AND ($3::integer IS NULL OR version = $3)
          ORDER BY version DESC LIMIT 1`,
        [organizationId, workflowId, body.version ?? null],
      );
      const version = v.rows[0];
      if (!version) {
        throw new ApiError(
          'CONFLICT',
          body.version ? `version ${body.version} is not published` : 'workflow has no published version; publish it first',
        );
      }
      const r = await client.query<{ id: string }>(
        `INSERT INTO workflow_runs (organization_id, workflow_id, version_id, status, input)
         VALUES ($1, $2, $3, 'queued', $4) RETURNING id`,
        [organizationId, workflowId, version.id, JSON.stringify(body.input ?? {})],
      );
      const runId = r.rows[0]!.id;
      await client.query(
        `INSERT INTO workflow_run_events (run_id, organization_id, seq, type, payload) VALUES ($1, $2, 1, 'run_queued', $3)`,
        [runId, organizationId, JSON.stringify({ workflowId, versionId: version.id, version: version.version })],
      );
      return { runId, versionId: version.id, version: version.version };
    });
    try {
      await runQueue.enqueue({ runId: run.runId, organizationId });
    } catch (err) {
      logger.error({ err, organizationId, runId: run.runId }, 'run could not be enqueued');
      const error = { code: 'INTERNAL_ERROR', message: 'the run could not be enqueued' };
      await pool.query(
        `UPDATE workflow_runs SET status = 'failed', error = $3, finished_at = now(), updated_at = now()
          WHERE organization_id = $1 AND id = $2 AND status = 'queued'`,
        [organizationId, run.runId, JSON.stringify(error)],
      );
      await pool.query(
        `INSERT INTO workflow_run_events (run_id, organization_id, seq, type, payload)
         SELECT $1, $2, COALESCE(max(seq), 0) + 1, 'run_failed', $3 FROM workflow_run_events WHERE run_id = $1 AND organization_id = $2`,
        [run.runId, organizationId, JSON.stringify({ error })],
      );
      throw new ApiError('INTERNAL_ERROR', 'the run could not be enqueued; try again', { httpStatus: 503 });
    }
    logger.info({ organizationId, workflowId, runId: run.runId, version: run.version }, 'run queued');
    return reply.status(201).send({ runId: run.runId, workflowId, versionId: run.versionId, version: run.version, status: 'queued' });
  });

  app.get('/v1/orgs/:orgId/workflows/:workflowId/runs', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const workflowId = idParam(request.params, 'workflowId', 'workflow');
    const { rows } = await pool.query<RunRow>(
      `${SELECT_RUN} WHERE r.organization_id = $1 AND r.workflow_id = $2 ORDER BY r.created_at DESC LIMIT 100`,
      [organizationId, workflowId],
    );
    return { runs: rows.map(runView) };
  });

  const getRun = async (request: FastifyRequest) => {
    const { organizationId } = orgOf(request);
    const runId = idParam(request.params, 'runId', 'run');
    const workflowId = (request.params as { workflowId?: string }).workflowId;
    const { rows } = await pool.query<RunRow>(`${SELECT_RUN} WHERE r.organization_id = $1 AND r.id = $2`, [organizationId, runId]);
    const row = rows[0];
    if (!row || (workflowId !== undefined && row.workflow_id !== workflowId.toLowerCase()))
      throw new ApiError('NOT_FOUND', 'run not found');
    return row;
  };

  const events = async (request: FastifyRequest) => {
    const { organizationId } = orgOf(request);
    const run = await getRun(request);
    const { after, limit } = parseOr(EventsQuerySchema, request.query, 'BAD_REQUEST', 'query');
    const { rows } = await pool.query<{ seq: number; type: string; node_id: string | null; payload: unknown; created_at: Date }>(
      `SELECT seq, type, node_id, payload, created_at FROM workflow_run_events
        WHERE organization_id = $1 AND run_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [organizationId, run.id, after, limit],
    );
    const last = rows.at(-1)?.seq ?? after;
    return {
      runId: run.id,
      status: run.status,
      events: rows.map((e) => ({ seq: e.seq, type: e.type, nodeId: e.node_id, payload: e.payload, createdAt: e.created_at.toISOString() })),
      nextAfter: last,
      hasMore: rows.length === limit,
    };
  };

  for (const prefix of ['/v1/orgs/:orgId', '/v1/orgs/:orgId/workflows/:workflowId']) {
    app.get(`${prefix}/runs/:runId`, { preHandler: members }, async (request) => {
      const run = await getRun(request);
      // The run view: each node with its status, agent, attempts and durations (from the run's events).
      return { ...runView(run), nodes: await loadRunNodes(pool, orgOf(request).organizationId, run.id, run.dsl) };
    });
    app.get(`${prefix}/runs/:runId/events`, { preHandler: members }, events);
  }
}
