/**
 * Regression (found by the chaos suite, Postgres unreachable for a few seconds): a connection that
 * dropped while its client was checked out of the pool (inside a transaction) emitted 'error' with no
 * listener, an uncaught exception that made the worker host exit. The query must fail, the process
 * must live, and the pool must work again once Postgres is reachable.
 */
import { expect, it } from 'vitest';
import { startTcpProxy } from '../../../test/chaos/lib/infra.js';
import { DATABASE_URL, describeWith } from '../../../test/services.js';
import { createPool } from './pool.js';

await describeWith(['postgres'], 'pool: connection dropped while checked out', () => {
  it('rejects the running work, keeps the process alive and recovers', async () => {
    const proxy = await startTcpProxy(DATABASE_URL);
    const pool = createPool(proxy.url, { max: 2 });
    try {
      const client = await pool.connect();
      await client.query('BEGIN');
      proxy.down();
      // Give the dropped socket time to surface its 'error' on the idle, checked-out client.
      await new Promise((r) => setTimeout(r, 200));
      const failed = await client.query('SELECT 1').then(
        () => null,
        (err: Error) => err,
      );
      expect(failed).toBeInstanceOf(Error);
      client.release(failed ?? undefined);
      proxy.up();
      const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
      expect(rows[0]!.ok).toBe(1);
    } finally {
      await pool.end();
      await proxy.close();
    }
  });
});
