import type * as BullMQ from 'bullmq';
import type * as IORedis from 'ioredis';
import { DispatchError } from '../errors.js';

/** The optional peers of `@vespid/sdk-dispatch/redis`, by package name. */
export interface RedisPeers {
  ioredis: typeof IORedis;
  bullmq: typeof BullMQ;
}

/**
 * Literal `import()`s: a bundler (the reference hosts are bundled into one file by tsup) sees and
 * inlines them, which a `require(name)` with a computed name would hide from it.
 */
const IMPORTERS: { [K in keyof RedisPeers]: () => Promise<RedisPeers[K]> } = {
  ioredis: () => import('ioredis'),
  bullmq: () => import('bullmq'),
};

/**
 * Loads one optional peer of the `/redis` subpath. They are optional so that a worker that only needs
 * the HTTP client does not install them; the root entry never reaches this file. Loaded on first use
 * (a queue's `start()`, a push's `subscribe()`, so `runner.start()` reports it), not when the subpath
 * is imported: a host that imports `/redis` but runs without Redis needs neither package.
 */
export async function loadRedisPeer<K extends keyof RedisPeers>(
  name: K,
  importer: () => Promise<unknown> = IMPORTERS[name],
): Promise<RedisPeers[K]> {
  try {
    return (await importer()) as RedisPeers[K];
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new DispatchError(
      'OPTIONAL_DEPENDENCY_MISSING',
      `@vespid/sdk-dispatch/redis needs the optional peer dependency "${name}", which is not installed: npm install ioredis bullmq`,
      { retryable: false, cause: err },
    );
  }
}
