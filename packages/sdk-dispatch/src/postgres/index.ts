/**
 * `@vespid/sdk-dispatch/postgres` — the Postgres {@link CursorStore}: one table it owns (schema and
 * name configurable, created by `migrate()`), whose compare-and-set commits together with the host's
 * own writes.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { postgresCursorStore } from '@vespid/sdk-dispatch/postgres';
 *
 * const store = postgresCursorStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate();
 * ```
 *
 * @packageDocumentation
 */
export { postgresCursorStore, type PostgresCursorStoreOptions } from './postgres-store.js';
export type { CursorStore } from '../store/cursor.js';
