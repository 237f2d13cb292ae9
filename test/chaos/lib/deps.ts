/**
 * Third-party modules and example hosts the chaos suite uses directly. `test/` is not a workspace
 * package (no own node_modules, the shared lockfile stays untouched): each module is loaded from the
 * workspace package that already depends on it (as bench/lib/deps.ts does), the example hosts by path.
 */
import { createRequire } from 'node:module';
import type { Redis as RedisClient } from '../../../packages/sdk-dispatch/node_modules/ioredis';
import type * as Ws from '../../../packages/sdk-gateway/node_modules/@types/ws';

const requireFrom = (pkg: string) => createRequire(new URL(`../../../packages/${pkg}/package.json`, import.meta.url));

const ioredis = requireFrom('sdk-dispatch')('ioredis') as { Redis: new (url: string, opts?: object) => RedisClient };
/** ioredis client class. */
export const Redis = ioredis.Redis;
export type RedisT = RedisClient;

const ws = requireFrom('sdk-gateway')('ws') as typeof Ws;
/** `ws` client class. */
export const WebSocket: typeof Ws.WebSocket = ws.WebSocket;
export type WebSocketT = Ws.WebSocket;

export { bootstrapOrganization } from '../../../examples/api/src/index.js';
export { createPool, dropSchema, migrate, type Pool } from '../../../examples/db/src/index.js';
