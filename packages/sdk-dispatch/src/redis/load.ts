import { createRequire } from 'node:module';
import type * as BullMQ from 'bullmq';
import type * as IORedis from 'ioredis';
import { DispatchError } from '../errors.js';

/** The optional peers of `@vespid/sdk-dispatch/redis`, by package name. */
export interface RedisPeers {
  ioredis: typeof IORedis;
  bullmq: typeof BullMQ;
}

/** What `npm install` line the error suggests: the subpath needs both packages. */
const INSTALL = 'npm install ioredis bullmq';

/**
 * Loads one optional peer of the `/redis` subpath. They are optional so that a worker that only needs
 * the HTTP client does not install them; the root entry never reaches this file. Loaded when a factory
 * is called (not when the subpath is imported), so a host that imports `/redis` but runs without Redis
 * needs neither package. `require` rather than `import()` keeps the factories synchronous; the names
 * are literals so a bundler still finds them.
 */
export function loadRedisPeer<K extends keyof RedisPeers>(
  name: K,
  load: (name: K) => unknown = (n) => (n === 'ioredis' ? requireHere('ioredis') : requireHere('bullmq')),
): RedisPeers[K] {
  try {
    return load(name) as RedisPeers[K];
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new DispatchError(
      'OPTIONAL_DEPENDENCY_MISSING',
      `@vespid/sdk-dispatch/redis needs the optional peer dependency "${name}", which is not installed: ${INSTALL}`,
      { retryable: false, cause: err },
    );
  }
}

let requireFn: NodeJS.Require | undefined;
function requireHere(name: string): unknown {
  requireFn ??= createRequire(import.meta.url);
  return requireFn(name);
}
