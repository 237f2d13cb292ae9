/** A seed node of a Redis Cluster, as ioredis' `Cluster` takes it. */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/**
 * Parses `REDIS_CLUSTER_NODES`: comma-separated `host:port` seeds (`[v6]:port` for IPv6). The client
 * learns the rest of the cluster from any one that answers. Throws with the entry's position only: a
 * mistyped value may be a URL with a password in it, which must not reach a log.
 *
 * @example
 * ```ts
 * parseClusterNodes('10.0.0.1:7000, 10.0.0.2:7000'); // [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }]
 * ```
 */
export function parseClusterNodes(text: string): RedisClusterNode[] {
  const entries = text.split(',').map((e) => e.trim());
  return entries.map((entry, i) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry);
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65_535)
      throw new Error(`REDIS_CLUSTER_NODES entry ${i + 1} of ${entries.length} is not host:port (e.g. 10.0.0.1:7000)`);
    return { host: (m[1] ?? m[2])!, port };
  });
}
