/**
 * Third-party modules the benchmark processes use directly. `bench/` is not a workspace package (so a
 * fresh clone needs no extra install and the shared lockfile stays untouched); each module is loaded
 * from the workspace package that already depends on it, and typed from that package's copy.
 */
import { createRequire } from 'node:module';
import type * as BullMQ from '../../packages/sdk-dispatch/node_modules/bullmq';
import type { Cluster as ClusterClient, ClusterOptions, Redis as RedisClient } from '../../packages/sdk-dispatch/node_modules/ioredis';
import type Dockerode from '../../packages/sdk-agent/node_modules/@types/dockerode';
import type * as Ws from '../../packages/sdk-gateway/node_modules/@types/ws';

const requireFrom = (pkg: string) => createRequire(new URL(`../../packages/${pkg}/package.json`, import.meta.url));

const ws = requireFrom('sdk-gateway')('ws') as typeof Ws;
/** `ws` client class (the one the gateway uses). */
export const WebSocket: typeof Ws.WebSocket = ws.WebSocket;
/** `ws` server class. */
export const WebSocketServer: typeof Ws.WebSocketServer = ws.WebSocketServer;
export type WebSocketT = Ws.WebSocket;

const bullmq = requireFrom('sdk-dispatch')('bullmq') as typeof BullMQ;
/** BullMQ classes for the peer comparison (scenario f). */
export const { Queue, Worker, QueueEvents } = bullmq;

const ioredis = requireFrom('sdk-dispatch')('ioredis') as {
  Redis: new (url: string, opts?: object) => RedisClient;
  Cluster: new (nodes: Array<{ host: string; port: number }>, opts?: ClusterOptions) => ClusterClient;
};
/** ioredis client class. */
export const Redis = ioredis.Redis;
export type RedisT = RedisClient;
/** ioredis Redis Cluster client class (scenarios g and i on `REDIS_CLUSTER_NODES`). */
export const Cluster = ioredis.Cluster;
export type ClusterT = ClusterClient;

/** dockerode constructor (scenario e baseline). */
export const Docker = requireFrom('sdk-agent')('dockerode') as typeof Dockerode;
export type DockerT = Dockerode;
