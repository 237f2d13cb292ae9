/**
 * The env of one example-gateway replica in cluster mode on a Redis Cluster (`REDIS_CLUSTER_NODES`),
 * as the Redis Cluster tests start it: production mode, an ephemeral port, the test's service token.
 */
export function clusterHostEnv(o: { replicaId: string; nodes: string; prefix: string; serviceToken: string }): Record<string, string> {
  return {
    NODE_ENV: 'production',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    GATEWAY_LOG_LEVEL: 'info',
    GATEWAY_SERVICE_TOKEN: o.serviceToken,
    GATEWAY_CLUSTER: 'redis',
    GATEWAY_REPLICA_ID: o.replicaId,
    REDIS_CLUSTER_NODES: o.nodes,
    VESPID_REDIS_PREFIX: o.prefix,
  };
}
