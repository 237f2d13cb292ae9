import type { Logger } from '@vespid/protocol';
import { noopLogger } from '@vespid/protocol';
import type { Pool, PoolClient } from 'pg';
import { DispatchError } from '../errors.js';
import type { BlockedCursor, CompleteResult, CursorOutcome, CursorStore, NewCursor } from '../store/cursor.js';

/**
 * Options of {@link postgresCursorStore}.
 *
 * @example
 * ```ts
 * postgresCursorStore({ pool, schema: 'worker', table: 'blocked_cursors', logger });
 * ```
 */
export interface PostgresCursorStoreOptions {
  /** A `pg` pool. The store never ends it: the host owns it. */
  pool: Pool;
  /** Schema holding the table (created by `migrate()`). @default 'vespid_dispatch' */
  schema?: string;
  /** Table name. @default 'blocked_cursors' */
  table?: string;
  logger?: Logger;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

interface Row {
  request_id: string;
  run_id: string;
  node_id: string;
  attempt: number;
  organization_id: string;
  status: 'blocked' | 'completed';
  request: BlockedCursor['request'];
  deadline_at: string;
  created_at: string;
  dispatched_at: string | null;
  completed_at: string | null;
  outcome_status: 'succeeded' | 'failed' | null;
  outcome_code: string | null;
  data: unknown;
}

// bigint columns come back as strings from pg; epoch ms fit a double exactly.
const num = (v: string | null): number | null => (v === null ? null : Number(v));

/**
 * SQL literals for a statement sent without parameters (see `inTransaction`): strings escaped by the
 * driver, safe integers as digits; anything else as an escaped string, which Postgres casts (or
 * refuses) as it would a parameter.
 */
function literals(c: PoolClient): (v: string | number | null) => string {
  return (v) => (v === null ? 'NULL' : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : c.escapeLiteral(String(v)));
}

function toCursor(r: Row): BlockedCursor {
  return {
    requestId: r.request_id,
    runId: r.run_id,
    nodeId: r.node_id,
    attempt: r.attempt,
    organizationId: r.organization_id,
    status: r.status,
    request: r.request,
    deadlineAt: Number(r.deadline_at),
    createdAt: Number(r.created_at),
    dispatchedAt: num(r.dispatched_at),
    completedAt: num(r.completed_at),
    outcome: r.outcome_status ? { status: r.outcome_status, errorCode: r.outcome_code ?? undefined } : null,
    ...(r.data === null || r.data === undefined ? {} : { data: r.data }),
  };
}

/**
 * A Postgres {@link CursorStore} (one table it owns). `complete()` runs an `UPDATE … WHERE status =
 * 'blocked'` and the host's `apply(cursor, client)` in one transaction, so the result, the host's
 * events and the run's progress commit together or not at all.
 *
 * @example
 * ```ts
 * const store = postgresCursorStore({ pool, schema: 'worker' });
 * await store.migrate();
 * const runner = createContinuationRunner({
 *   client, store,
 *   onResult: async ({ cursor, result, tx }) => {
 *     await tx.query('insert into workflow_run_events (run_id, type) values ($1, $2)', [cursor.runId, `node_${result.status}`]);
 *   },
 * });
 * ```
 */
export function postgresCursorStore(options: PostgresCursorStoreOptions): CursorStore<PoolClient> & { readonly tableName: string } {
  const schema = options.schema ?? 'vespid_dispatch';
  const table = options.table ?? 'blocked_cursors';
  if (!IDENT.test(schema) || !IDENT.test(table)) {
    throw new DispatchError('BAD_REQUEST', 'schema and table must be lower-case SQL identifiers ([a-z_][a-z0-9_]*)');
  }
  if (!options.pool) throw new DispatchError('BAD_REQUEST', 'postgresCursorStore needs a pg pool');
  const pool = options.pool;
  const logger = options.logger ?? noopLogger;
  const t = `"${schema}"."${table}"`;

  /**
   * `fn` inside BEGIN … COMMIT. With `first(client)`, that statement (values inlined as escaped
   * literals) is sent in the same simple query as BEGIN: one round trip less on a node's path.
   */
  async function inTransaction<T>(fn: (client: PoolClient, first: Row[]) => Promise<T>, first?: (c: PoolClient) => string): Promise<T> {
    const client = await pool.connect();
    try {
      let rows: Row[] = [];
      if (first) {
        const results = (await client.query(`BEGIN; ${first(client)}`)) as unknown as Array<{ rows: Row[] }>;
        rows = results[1]?.rows ?? [];
      } else await client.query('BEGIN');
      const value = await fn(client, rows);
      await client.query('COMMIT');
      return value;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  return {
    tableName: t,
    async migrate() {
      // The advisory lock keeps concurrent migrations (several workers starting) from racing on DDL.
      await inTransaction(async (c) => {
        await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [t]);
        await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        await c.query(`CREATE TABLE IF NOT EXISTS ${t} (
          request_id text COLLATE "C" PRIMARY KEY,
          run_id text NOT NULL,
          node_id text NOT NULL,
          attempt integer NOT NULL,
          organization_id text NOT NULL,
          status text NOT NULL CHECK (status IN ('blocked', 'completed')),
          request jsonb NOT NULL,
          deadline_at bigint NOT NULL,
          created_at bigint NOT NULL,
          dispatched_at bigint,
          completed_at bigint,
          outcome_status text,
          outcome_code text,
          data jsonb
        )`);
        await c.query(`CREATE INDEX IF NOT EXISTS "${table}_blocked_idx" ON ${t} (request_id) WHERE status = 'blocked'`);
        await c.query(`CREATE INDEX IF NOT EXISTS "${table}_run_idx" ON ${t} (run_id)`);
      });
    },
    insert(cursor: NewCursor, onInserted) {
      return inTransaction(
        async (c, res) => {
          const inserted = res[0];
          if (inserted) {
            const row = toCursor(inserted);
            if (onInserted) await onInserted(row, c);
            return { created: true, cursor: row };
          }
          const existing = await c.query<Row>(`SELECT * FROM ${t} WHERE request_id = $1`, [cursor.requestId]);
          return { created: false, cursor: toCursor(existing.rows[0]!) };
        },
        (c) => {
          const v = literals(c);
          return `INSERT INTO ${t} (request_id, run_id, node_id, attempt, organization_id, status, request, deadline_at, created_at, data)
           VALUES (${v(cursor.requestId)}, ${v(cursor.runId)}, ${v(cursor.nodeId)}, ${v(cursor.attempt)}, ${v(cursor.organizationId)},
                   'blocked', ${v(JSON.stringify(cursor.request))}, ${v(cursor.deadlineAt)}, ${v(cursor.createdAt)},
                   ${v(cursor.data === undefined ? null : JSON.stringify(cursor.data))})
           ON CONFLICT (request_id) DO NOTHING RETURNING *`;
        },
      );
    },
    async get(requestId) {
      const res = await pool.query<Row>(`SELECT * FROM ${t} WHERE request_id = $1`, [requestId]);
      return res.rows[0] ? toCursor(res.rows[0]) : undefined;
    },
    async markDispatched(requestId, at) {
      await pool.query(`UPDATE ${t} SET dispatched_at = $2 WHERE request_id = $1 AND status = 'blocked' AND dispatched_at IS NULL`, [
        requestId,
        at,
      ]);
    },
    complete<T>(requestId: string, outcome: CursorOutcome, apply: (cursor: BlockedCursor, tx: PoolClient) => Promise<T>) {
      return inTransaction(
        async (c, res): Promise<CompleteResult<T>> => {
          const row = res[0];
          if (!row) {
            const current = await c.query<Row>(`SELECT * FROM ${t} WHERE request_id = $1`, [requestId]);
            return { applied: false, cursor: current.rows[0] ? toCursor(current.rows[0]) : undefined };
          }
          const done = toCursor(row);
          const before: BlockedCursor = { ...done, status: 'blocked', completedAt: null, outcome: null };
          const value = await apply(before, c);
          logger.debug({ requestId, status: outcome.status }, 'cursor completed');
          return { applied: true, value, cursor: done };
        },
        // Under READ COMMITTED a concurrent completer waits on the row lock, then re-checks the WHERE
        // and finds the row completed: exactly one transaction wins.
        (c) => {
          const v = literals(c);
          return `UPDATE ${t} SET status = 'completed', completed_at = ${v(outcome.completedAt)}, outcome_status = ${v(outcome.status)},
                  outcome_code = ${v(outcome.error?.code ?? null)}, dispatched_at = COALESCE(dispatched_at, ${v(outcome.dispatchedAt ?? null)})
           WHERE request_id = ${v(requestId)} AND status = 'blocked' RETURNING *`;
        },
      );
    },
    async listBlocked({ after, limit, createdAfter, createdBefore }) {
      const res = await pool.query<Row>(
        `SELECT * FROM ${t} WHERE status = 'blocked' AND ($1::text IS NULL OR request_id > $1)
           AND ($3::bigint IS NULL OR created_at > $3) AND ($4::bigint IS NULL OR created_at <= $4)
         ORDER BY request_id LIMIT $2`,
        [after ?? null, limit, createdAfter ?? null, createdBefore ?? null],
      );
      return res.rows.map(toCursor);
    },
    async close() {},
  };
}
