/**
 * Postgres schema, migrations and pool helper shared by the example hosts (api, gateway, worker).
 * Tables: organizations, users, memberships, access_tokens, agent_pairing_tokens,
 * organization_agents, connector_secrets, workflows, workflow_versions, workflow_runs,
 * workflow_run_events. See migrations/*.sql.
 */
export { createPool, assertSchemaName, type PoolOptions, type Pool, type PoolClient } from './pool.js';
export { migrate, listMigrations, dropSchema, type Migration } from './migrate.js';
export {
  ExampleDbError,
  parseKek,
  kekFromEnv,
  encryptSecret,
  decryptSecret,
  envelopeFromRow,
  loadSecretValue,
  type Kek,
  type SecretEnvelope,
  type SecretBinding,
} from './secrets.js';
export {
  tokenRotationOverlapMsFromEnv,
  markTokenRotation,
  setPendingToken,
  activatePendingToken,
  type Queryable,
} from './agent-tokens.js';
export { redisNames, redisNamesFromEnv, type RedisNames } from './redis-names.js';
export { handleShutdown, type ShutdownOptions } from './host/shutdown.js';
