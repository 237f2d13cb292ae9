// `pnpm --filter @vespid/example-db migrate`: applies the migrations to DATABASE_URL (schema from
// DATABASE_SCHEMA, default public).
import { createPool } from './pool.js';
import { migrate } from './migrate.js';

const [command] = process.argv.slice(2).filter((a) => a !== '--');
if (command !== 'migrate') {
  console.error('usage: cli.ts migrate   (env: DATABASE_URL, DATABASE_SCHEMA)');
  process.exit(2);
}
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set');
  process.exit(1);
}
const schema = process.env.DATABASE_SCHEMA ?? 'public';
const pool = createPool(url, { schema });
try {
  const applied = await migrate(pool, { schema });
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await pool.end();
}
