/**
 * Workflows: create, list, get, update the draft, publish (a new immutable workflow_versions row).
 * Every DSL is validated with {@link WorkflowDslSchema}; invalid → 400 INVALID_WORKFLOW with issues.
 */
import { LIMITS } from '@vespid/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { orgOf, requireOrg } from '../auth.js';
import type { AppContext } from '../context.js';
import { WorkflowDslSchema } from '../dsl.js';
import { ApiError } from '../errors.js';
import { idParam, parseOr } from '../http.js';
import { inTransaction } from '../users.js';

const NameSchema = z.string().trim().min(1).max(LIMITS.nameLength);
const CreateSchema = z.strictObject({ name: NameSchema, dsl: z.unknown() });
const UpdateSchema = z.strictObject({ name: NameSchema.optional(), dsl: z.unknown().optional() });

interface WorkflowRow {
  id: string;
  name: string;
  dsl: unknown;
  created_at: Date;
  updated_at: Date;
  latest_version: number | null;
}

const SELECT_WORKFLOW = `SELECT w.id, w.name, w.dsl, w.created_at, w.updated_at,
  (SELECT max(v.version) FROM workflow_versions v WHERE v.workflow_id = w.id AND v.organization_id = w.organization_id) AS latest_version
  FROM workflows w`;

function workflowView(row: WorkflowRow) {
  return {
    id: row.id,
    name: row.name,
    dsl: row.dsl,
    latestVersion: row.latest_version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Validates a DSL; 400 INVALID_WORKFLOW with the zod issues otherwise. */
export function parseWorkflowDsl(dsl: unknown) {
  return parseOr(WorkflowDslSchema, dsl, 'INVALID_WORKFLOW', 'workflow');
}

/** Registers the workflow routes. */
export function workflowRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger } = ctx;
  const members = requireOrg(pool);

  app.post('/v1/orgs/:orgId/workflows', { preHandler: members }, async (request, reply) => {
    const { organizationId } = orgOf(request);
    const body = parseOr(CreateSchema, request.body);
    const dsl = parseWorkflowDsl(body.dsl);
    const { rows } = await pool.query<WorkflowRow>(
      `INSERT INTO workflows (organization_id, name, dsl) VALUES ($1, $2, $3)
       RETURNING id, name, dsl, created_at, updated_at, NULL::integer AS latest_version`,
      [organizationId, body.name, JSON.stringify(dsl)],
    );
    logger.info({ organizationId, workflowId: rows[0]!.id }, 'workflow created');
    return reply.status(201).send(workflowView(rows[0]!));
  });

  app.get('/v1/orgs/:orgId/workflows', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const { rows } = await pool.query<WorkflowRow>(`${SELECT_WORKFLOW} WHERE w.organization_id = $1 ORDER BY w.created_at DESC LIMIT 500`, [
      organizationId,
    ]);
    return { workflows: rows.map(workflowView) };
  });

  app.get('/v1/orgs/:orgId/workflows/:workflowId', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const workflowId = idParam(request.params, 'workflowId', 'workflow');
    const { rows } = await pool.query<WorkflowRow>(`${SELECT_WORKFLOW} WHERE w.organization_id = $1 AND w.id = $2`, [
      organizationId,
      workflowId,
    ]);
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'workflow not found');
    return workflowView(rows[0]);
  });

  // Edits the draft; published versions are immutable.
  app.put('/v1/orgs/:orgId/workflows/:workflowId', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const workflowId = idParam(request.params, 'workflowId', 'workflow');
    const body = parseOr(UpdateSchema, request.body);
    const dsl = body.dsl === undefined ? null : JSON.stringify(parseWorkflowDsl(body.dsl));
    const { rows } = await pool.query<{ id: string }>(
      `UPDATE workflows SET name = COALESCE($3, name), dsl = COALESCE($4::jsonb, dsl), updated_at = now()
        WHERE organization_id = $1 AND id = $2 RETURNING id`,
      [organizationId, workflowId, body.name ?? null, dsl],
    );
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'workflow not found');
    const view = await pool.query<WorkflowRow>(`${SELECT_WORKFLOW} WHERE w.organization_id = $1 AND w.id = $2`, [
      organizationId,
      workflowId,
    ]);
    return workflowView(view.rows[0]!);
  });

  app.post('/v1/orgs/:orgId/workflows/:workflowId/publish', { preHandler: members }, async (request, reply) => {
    const { organizationId } = orgOf(request);
    const workflowId = idParam(request.params, 'workflowId', 'workflow');
    const version = await inTransaction(pool, async (client) => {
      // Row lock serializes concurrent publishes of one workflow, so version numbers never collide.
      const wf = await client.query<{ dsl: unknown }>('SELECT dsl FROM workflows WHERE organization_id = $1 AND id = $2 FOR UPDATE', [
        organizationId,
        workflowId,
      ]);
      if (!wf.rows[0]) throw new ApiError('NOT_FOUND', 'workflow not found');
      const dsl = parseWorkflowDsl(wf.rows[0].dsl);
      const { rows } = await client.query<{ id: string; version: number; published_at: Date }>(
        `INSERT INTO workflow_versions (workflow_id, organization_id, version, dsl)
         SELECT $2, $1, COALESCE(max(version), 0) + 1, $3 FROM workflow_versions WHERE organization_id = $1 AND workflow_id = $2
         RETURNING id, version, published_at`,
        [organizationId, workflowId, JSON.stringify(dsl)],
      );
      return rows[0]!;
    });
    logger.info({ organizationId, workflowId, version: version.version }, 'workflow published');
    return reply
      .status(201)
      .send({ workflowId, versionId: version.id, version: version.version, publishedAt: version.published_at.toISOString() });
  });
}
