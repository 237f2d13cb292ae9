/**
 * The Redis deployments the cluster-mode scenarios (g, i) measure in one run: the standalone server of
 * `REDIS_URL` and, when `REDIS_CLUSTER_NODES` is set, the Redis Cluster it names. Without that variable
 * the cluster rows are left out and the scenario says so in a note, instead of failing.
 */
import { pidOf } from './cpu.js';
import { Cluster, type ClusterT, Redis, type RedisT } from './deps.js';

export interface RedisBackend {
  /** `standalone` or `redis-cluster`. */
  name: 'standalone' | 'redis-cluster';
  /** Suffix for figure names: '' for standalone (names unchanged since earlier runs), ', Redis Cluster' otherwise. */
  suffix: string;
  /** What the gateway process needs to connect (`listen` arguments). */
  listenArgs: { redisUrl: string } | { redisClusterNodes: string };
  /** A new client (yours to close). */
  connect(): RedisT | ClusterT;
}

/** Seed nodes of `REDIS_CLUSTER_NODES` (`host:port,host:port`) as ioredis takes them. */
export function parseNodes(text: string): Array<{ host: string; port: number }> {
  return text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e) => {
      const at = e.lastIndexOf(':');
      const port = Number(e.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port)) throw new Error(`REDIS_CLUSTER_NODES: "${e}" is not host:port`);
      return { host: e.slice(0, at), port };
    });
}

/** A Cluster client for `nodes` (also used by the gateway process). */
export function clusterClient(nodes: string): ClusterT {
  return new Cluster(parseNodes(nodes), { redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 5000 } });
}

/** The backends of this run (`clusterNodes`: `REDIS_CLUSTER_NODES`) and, when the cluster is left out, why. */
export function redisBackends(
  redisUrl: string,
  clusterNodes: string | undefined,
): {
  backends: RedisBackend[];
  skipped?: string;
} {
  const standalone: RedisBackend = {
    name: 'standalone',
    suffix: '',
    listenArgs: { redisUrl },
    connect: () => new Redis(redisUrl, { maxRetriesPerRequest: 1 }),
  };
  if (!clusterNodes?.trim()) {
    return { backends: [standalone], skipped: 'REDIS_CLUSTER_NODES is not set: the Redis Cluster rows were not measured' };
  }
  const nodes = clusterNodes.trim();
  parseNodes(nodes);
  return {
    backends: [
      standalone,
      { name: 'redis-cluster', suffix: ', Redis Cluster', listenArgs: { redisClusterNodes: nodes }, connect: () => clusterClient(nodes) },
    ],
  };
}

const isCluster = (c: RedisT | ClusterT): c is ClusterT => (c as ClusterT).isCluster === true;

/** The servers that execute commands: the one standalone server, or every master of the cluster. */
export async function mastersOf(client: RedisT | ClusterT): Promise<RedisT[]> {
  if (!isCluster(client)) return [client];
  // The first command makes the client load the slot map, which fills its node list.
  await client.ping();
  return client.nodes('master');
}

/**
 * The local redis-server processes behind `client` by port: for a cluster every node, masters and
 * replicas (a replica applies every write of its master, so its CPU is part of the cost).
 */
export async function serverPids(client: RedisT | ClusterT): Promise<Record<string, number>> {
  if (isCluster(client)) await client.ping(); // loads the slot map, which fills the node list
  const nodes = isCluster(client) ? client.nodes('all') : [client];
  const out: Record<string, number> = {};
  for (const n of nodes) {
    const port = Number(n.options.port ?? 6379);
    const pid = pidOf('redis-server', `:${port}`);
    if (pid) out[`redis${port}`] = pid;
  }
  return out;
}

/** Sum of `total_commands_processed` over the masters (counts the commands inside Lua scripts, and other clients'). */
export async function serverCommands(masters: RedisT[]): Promise<number> {
  const infos = await Promise.all(masters.map((m) => m.info('stats')));
  return infos.reduce((a, info) => a + Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN), 0);
}

/** Deletes every key matching `${prefix}:*` with SCAN + UNLINK on each master (never FLUSH: Redis is shared). */
export async function deletePrefix(client: RedisT | ClusterT, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of await mastersOf(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // One UNLINK per key on a master: the keys of one page may hash to different slots.
      if (keys.length > 0) deleted += (await Promise.all(keys.map((k) => node.unlink(k)))).reduce((a, b) => a + b, 0);
    } while (cursor !== '0');
  }
  return deleted;
}
