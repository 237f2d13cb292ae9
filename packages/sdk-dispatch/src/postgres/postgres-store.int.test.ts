import { cursorStoreConformance } from '@vespid/sdk-dispatch/testing';
import pg from 'pg';
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
