import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { assertSchemaName } from './pool.js';

// From source: examples/db/migrations. In a host built with tsup (dist/main.js), this module is
// inlined and the build copies the SQL files to dist/migrations beside it.
const MIGRATIONS_DIR =
  [new URL('../migrations/', import.meta.url), new URL('./migrations/', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((dir) => existsSync(`${dir}0001_control_plane.sql`)) ?? fileURLToPath(new URL('../migrations/', import.meta.url));

export interface Migration {
  version: string;
  sql: string;
}

/** The ordered SQL migrations shipped in examples/db/migrations (NNNN_name.sql). */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(`${dir}${f}`, 'utf8') }));
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so that
 * several hosts starting together (api, gateway, worker) never migrate twice.
 * Returns the versions applied by this call.
 */
export async function migrate(pool: pg.Pool, options: { schema?: string } = {}): Promise<string[]> {
  const schema = assertSchemaName(options.schema ?? 'public');
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    // Lock first: even CREATE SCHEMA IF NOT EXISTS races when several hosts start together.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`vespid-migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`SET search_path = ${schema}, public`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of listMigrations()) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
          await client.query('COMMIT');
          applied.push(m.version);
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.version} failed: ${(err as Error).message}`, { cause: err });
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`vespid-migrate:${schema}`]);
    }
  } finally {
    client.release();
  }
  return applied;
}

/** Drops a schema (tests). */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${assertSchemaName(schema)} CASCADE`);
}
