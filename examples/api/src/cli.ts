/**
 * Admin commands of the api host:
 *   pnpm --filter @vespid/example-api migrate
 *   pnpm --filter @vespid/example-api bootstrap -- --org-name Acme --email you@acme.test
 * `bootstrap` prints one JSON line `{orgId, userId, accessToken}` (the token is shown only here).
 * Env: DATABASE_URL (required), DATABASE_SCHEMA (public).
 */
import { parseArgs } from 'node:util';
import { createPool, migrate } from '@vespid/example-db';
import { bootstrapOrganization } from './users.js';

const USAGE = `usage:
  cli.ts migrate
  cli.ts bootstrap --org-name <name> --email <email> [--name <user name>]
env: DATABASE_URL (required), DATABASE_SCHEMA (default public)`;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

// pnpm may pass a literal "--" through before the script's own arguments.
const argv = process.argv.slice(2).filter((a, i) => !(a === '--' && i <= 1));
const [command, ...rest] = argv;
if (command !== 'migrate' && command !== 'bootstrap') fail(USAGE, 2);

let options: { 'org-name'?: string; email?: string; name?: string };
try {
  options = parseArgs({
    args: rest.filter((a) => a !== '--'),
    options: { 'org-name': { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  }).values;
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`, 2);
}

const url = process.env.DATABASE_URL;
if (!url) fail('DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/vespid)');
const schema = process.env.DATABASE_SCHEMA || 'public';
const pool = createPool(url, { schema, max: 2, applicationName: 'vespid-api-cli' });
try {
  const applied = await migrate(pool, { schema });
  if (command === 'migrate') {
    process.stdout.write(`${applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date'}\n`);
  } else {
    if (!options['org-name'] || !options.email) fail(`bootstrap needs --org-name and --email\n${USAGE}`, 2);
    const result = await bootstrapOrganization(pool, {
      orgName: options['org-name'],
      email: options.email,
      ...(options.name ? { userName: options.name } : {}),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
} catch (err) {
  process.stderr.write(`${command} failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
