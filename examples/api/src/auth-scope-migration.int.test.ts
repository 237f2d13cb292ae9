/**
 * Migration 0003 on a database written by the earlier schema: tokens minted before scoping get the
 * organization they can be tied to (the one a `member:<org>` label names, or the account's only
 * organization) and every other live token is revoked — including a token an attacker obtained
 * through the old "add member" for an account that belongs to other organizations too.
 */
import { type Pool, createPool, dropSchema, listMigrations, migrate } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith, uniquePrefix } from '../../../test/services.js';

await describeWith(['postgres'], 'migration 0003: access-token scope', () => {
  const schema = uniquePrefix('mig3');
  let pool: Pool;
  beforeAll(async () => {
    pool = createPool(DATABASE_URL, { schema, max: 2 });
    // The schema as the previous release left it: migrations before 0003 only.
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query('CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of listMigrations().filter((m) => m.version < '0003')) {
      await pool.query(m.sql);
      await pool.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
  });
  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('scopes what it can, revokes the rest, and from then on refuses a live token without a scope', async () => {
    const q = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows;
    const [orgA] = await q("INSERT INTO organizations (name) VALUES ('A') RETURNING id");
    const [orgB] = await q("INSERT INTO organizations (name) VALUES ('B') RETURNING id");
    const [solo] = await q("INSERT INTO users (email) VALUES ('solo@x.y') RETURNING id");
    const [victim] = await q("INSERT INTO users (email) VALUES ('victim@x.y') RETURNING id");
    await q("INSERT INTO memberships VALUES ($1, $2, 'owner')", [orgA.id, solo.id]);
    await q("INSERT INTO memberships VALUES ($1, $2, 'owner')", [orgB.id, victim.id]);
    await q("INSERT INTO memberships VALUES ($1, $2, 'member')", [orgA.id, victim.id]);
    const token = (userId: string, hash: string, label: string) =>
      q('INSERT INTO access_tokens (user_id, token_hash, label) VALUES ($1, $2, $3)', [userId, hash, label]);
    await token(solo.id, 'solo-bootstrap', 'bootstrap');
    await token(victim.id, 'victim-bootstrap', 'bootstrap');
    await token(victim.id, 'takeover', `member:${orgA.id}`);

    expect(await migrate(pool, { schema })).toContain('0003_auth_scope');

    const rows = await q('SELECT token_hash, organization_id, revoked_at IS NOT NULL AS revoked FROM access_tokens ORDER BY token_hash');
    expect(rows).toEqual([
      { token_hash: 'solo-bootstrap', organization_id: orgA.id, revoked: false },
      // The old attack's token: it keeps org A (where the attacker added the victim) and nothing else.
      { token_hash: 'takeover', organization_id: orgA.id, revoked: false },
      // Two organizations and no label to tell which: revoked.
      { token_hash: 'victim-bootstrap', organization_id: null, revoked: true },
    ]);
    await expect(token(solo.id, 'unscoped', 'x')).rejects.toThrow(/access_tokens_scoped/);
  });
});
