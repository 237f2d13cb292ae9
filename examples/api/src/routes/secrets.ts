/**
 * Connector secrets: create, rotate, list, delete. Values are encrypted with the AES-256-GCM envelope
 * of @vespid/example-db (AAD binds org + secret id) and are never returned or logged: responses and
 * log lines carry metadata only.
 */
import { randomUUID } from 'node:crypto';
import { encryptSecret } from '@vespid/example-db';
import { ConnectorIdSchema, LIMITS } from '@vespid/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MANAGER_ROLES, orgOf, requireOrg } from '../auth.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../audit/audit-log.js';
import { ApiError } from '../errors.js';
import { idParam, parseOr } from '../http.js';

const ValueSchema = z.string().min(1).max(LIMITS.secretLength);
const CreateSecretSchema = z.strictObject({
  name: z.string().trim().min(1).max(LIMITS.nameLength),
  connectorId: ConnectorIdSchema,
  value: ValueSchema,
});

interface SecretRow {
  id: string;
  name: string;
  connector_id: string;
  kek_id: string;
  created_at: Date;
  updated_at: Date;
}

const META = 'id, name, connector_id, kek_id, created_at, updated_at';

function secretView(row: SecretRow) {
  return {
    id: row.id,
    name: row.name,
    connectorId: row.connector_id,
    kekId: row.kek_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Registers the connector-secret routes. */
export function secretRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, kek, logger } = ctx;
  const managers = requireOrg(pool, MANAGER_ROLES);
  const members = requireOrg(pool);

  app.post('/v1/orgs/:orgId/secrets', { preHandler: managers }, async (request, reply) => {
    const { organizationId } = orgOf(request);
    const body = parseOr(CreateSecretSchema, request.body);
    // The id is chosen before encrypting because the AAD binds it.
    const id = randomUUID();
    const env = encryptSecret(kek, { organizationId, secretId: id }, body.value);
    const { rows } = await pool.query<SecretRow>(
      `INSERT INTO connector_secrets (id, organization_id, name, connector_id, kek_id, dek_iv, dek_ciphertext, dek_tag,
                                      value_iv, value_ciphertext, value_tag)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (organization_id, name) DO NOTHING RETURNING ${META}`,
      [
        id,
        organizationId,
        body.name,
        body.connectorId,
        env.kekId,
        env.dekIv,
        env.dekCiphertext,
        env.dekTag,
        env.valueIv,
        env.valueCiphertext,
        env.valueTag,
      ],
    );
    if (!rows[0]) throw new ApiError('CONFLICT', `a secret named "${body.name}" already exists; rotate it instead`);
    await recordAudit(pool, {
      organizationId,
      type: 'secret.created',
      request,
      subject: { type: 'secret', id },
      details: { name: body.name, connectorId: body.connectorId },
    });
    logger.info({ organizationId, secretId: id, connectorId: body.connectorId }, 'secret created');
    return reply.status(201).send(secretView(rows[0]));
  });

  app.get('/v1/orgs/:orgId/secrets', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const { rows } = await pool.query<SecretRow>(`SELECT ${META} FROM connector_secrets WHERE organization_id = $1 ORDER BY name`, [
      organizationId,
    ]);
    return { secrets: rows.map(secretView) };
  });

  app.get('/v1/orgs/:orgId/secrets/:secretId', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const secretId = idParam(request.params, 'secretId', 'secret');
    const { rows } = await pool.query<SecretRow>(`SELECT ${META} FROM connector_secrets WHERE organization_id = $1 AND id = $2`, [
      organizationId,
      secretId,
    ]);
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'secret not found');
    return secretView(rows[0]);
  });

  // Rotate: a new value under a new data key (and the current KEK).
  app.put('/v1/orgs/:orgId/secrets/:secretId', { preHandler: managers }, async (request) => {
    const { organizationId } = orgOf(request);
    const secretId = idParam(request.params, 'secretId', 'secret');
    const { value } = parseOr(z.strictObject({ value: ValueSchema }), request.body);
    const env = encryptSecret(kek, { organizationId, secretId }, value);
    const { rows } = await pool.query<SecretRow>(
      `UPDATE connector_secrets SET kek_id = $3, dek_iv = $4, dek_ciphertext = $5, dek_tag = $6, value_iv = $7,
              value_ciphertext = $8, value_tag = $9, updated_at = now()
        WHERE organization_id = $1 AND id = $2 RETURNING ${META}`,
      [organizationId, secretId, env.kekId, env.dekIv, env.dekCiphertext, env.dekTag, env.valueIv, env.valueCiphertext, env.valueTag],
    );
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'secret not found');
    await recordAudit(pool, {
      organizationId,
      type: 'secret.rotated',
      request,
      subject: { type: 'secret', id: secretId },
      details: { name: rows[0].name, kekId: rows[0].kek_id },
    });
    logger.info({ organizationId, secretId }, 'secret rotated');
    return secretView(rows[0]);
  });

  app.delete('/v1/orgs/:orgId/secrets/:secretId', { preHandler: managers }, async (request, reply) => {
    const { organizationId } = orgOf(request);
    const secretId = idParam(request.params, 'secretId', 'secret');
    const { rows } = await pool.query<{ name: string }>(
      'DELETE FROM connector_secrets WHERE organization_id = $1 AND id = $2 RETURNING name',
      [organizationId, secretId],
    );
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'secret not found');
    await recordAudit(pool, {
      organizationId,
      type: 'secret.deleted',
      request,
      subject: { type: 'secret', id: secretId },
      details: { name: rows[0].name },
    });
    logger.info({ organizationId, secretId }, 'secret deleted');
    return reply.status(204).send();
  });
}
