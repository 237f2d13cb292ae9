import pg from 'pg';

/** Options for {@link createPool}. */
export interface PoolOptions {
  /** Postgres schema to use (created by migrate); isolates tests and demo runs. Default `public`. */
  schema?: string;
  /** Max connections. */
  max?: number;
  applicationName?: string;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates a schema name so it can be interpolated into SQL safely. */
export function assertSchemaName(schema: string): string {
  if (!SCHEMA_RE.test(schema)) throw new Error(`invalid schema name: ${JSON.stringify(schema)}`);
  return schema;
}

/**
 * A pg Pool whose connections use `schema` first on the search_path, so every example host and test
 * can run against its own schema of one database.
 */
export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const schema = assertSchemaName(options.schema ?? 'public');
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'vespid',
    options: `-c search_path=${schema},public`,
  });
  // An idle client error (e.g. Postgres restarted) must not crash the host; the next query reconnects.
  pool.on('error', () => {});
  // pg-pool removes that listener while a client is checked out, and a client whose connection drops
  // then emits 'error' with nobody listening: an uncaught exception that killed the host. The running
  // query still rejects with the error, so this listener only keeps the process alive.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export type { Pool, PoolClient } from 'pg';
