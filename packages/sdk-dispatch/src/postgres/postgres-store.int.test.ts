import { cursorStoreConformance } from '@vespid/sdk-dispatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../../test/services.js';
import { postgresCursorStore } from './postgres-store.js';

await describeWith(['postgres'], 'postgresCursorStore', () => {
  cursorStoreConformance('postgresCursorStore', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 25 });
    const schema = uniquePrefix('cur').toLowerCase();
    const store = postgresCursorStore({ pool, schema, table: 'cursors' });
    await store.migrate();
    await pool.query(`CREATE TABLE "${schema}".effects (key text NOT NULL)`);
    return {
      store,
      writeEffect: async (tx, key) => {
        await tx.query(`INSERT INTO "${schema}".effects (key) VALUES ($1)`, [key]);
      },
      countEffects: async (key) => {
        const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".effects WHERE key = $1`, [key]);
        return Number(r.rows[0]?.n ?? 0);
      },
      cleanup: async () => {
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
        await pool.end();
      },
    };
  });
});

await describeWith(['postgres'], 'postgresCursorStore: BEGIN sent with the first statement', () => {
  const schema = uniquePrefix('curq').toLowerCase();
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const store = postgresCursorStore({ pool, schema });
  // Every round trip a store call makes (each client.query is one).
  const sent: string[] = [];
  const wrapped = new WeakSet<pg.PoolClient>();
  const connect = pool.connect.bind(pool);
  // The store's transactions check out a client; pool.query (with a callback) is left as it is.
  (pool as { connect: (...a: unknown[]) => unknown }).connect = async (...a: unknown[]) => {
    if (a.length > 0) return (connect as (...x: unknown[]) => unknown)(...a);
    const client = await connect();
    if (wrapped.has(client)) return client;
    wrapped.add(client);
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as { query: unknown }).query = (...a: unknown[]) => {
      sent.push(String(a[0]).trim().split(/\s+/)[0] ?? '');
      return query(...a);
    };
    return client;
  };

  beforeAll(() => store.migrate());
  afterAll(async () => {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  });

  it('inserts and completes in one round trip less each, with quotes, backslashes and unicode kept exactly', async () => {
    const odd = `r'1\\"; DROP TABLE x; --$1 ✓ \\x00`.replace('\\x00', '');
    const request = { kind: "it's", payload: { s: `a'b\\c"d $2 é ✓`, n: [1, 2.5, null] }, timeoutMs: 1000 };
    sent.length = 0;
    const inserted = await store.insert(
      {
        requestId: odd,
        runId: `run'${odd}`,
        nodeId: 'n\\1',
        attempt: 2,
        organizationId: "o'",
        request,
        deadlineAt: 2_000_000_000_000,
        createdAt: 1_700_000_000_123,
        data: { q: "x'y" },
      },
      async (_c, tx) => {
        await tx.query('SELECT 1');
      },
    );
    // BEGIN + INSERT together, onInserted's statement, COMMIT.
    expect(sent).toEqual(['BEGIN;', 'SELECT', 'COMMIT']);
    expect(inserted.created).toBe(true);
    const got = await store.get(odd);
    expect(got).toMatchObject({
      requestId: odd,
      runId: `run'${odd}`,
      nodeId: 'n\\1',
      attempt: 2,
      organizationId: "o'",
      request,
      data: { q: "x'y" },
    });
    expect(got?.deadlineAt).toBe(2_000_000_000_000);
    expect(got?.createdAt).toBe(1_700_000_000_123);

    sent.length = 0;
    const done = await store.complete(
      odd,
      { status: 'failed', error: { code: "E'\\1", message: 'm' }, completedAt: 1_700_000_000_456, dispatchedAt: 1_700_000_000_200 },
      async (cursor, tx) => {
        await tx.query('SELECT 1');
        return cursor.status;
      },
    );
    expect(sent).toEqual(['BEGIN;', 'SELECT', 'COMMIT']);
    expect(done).toMatchObject({ applied: true, value: 'blocked' });
    expect(done.cursor).toMatchObject({
      status: 'completed',
      completedAt: 1_700_000_000_456,
      dispatchedAt: 1_700_000_000_200,
      outcome: { status: 'failed', errorCode: "E'\\1" },
    });
    // Completed once: a second completion finds nothing to apply.
    const again = await store.complete(odd, { status: 'succeeded', completedAt: 1 }, async () => 'no');
    expect(again.applied).toBe(false);
  });
});
