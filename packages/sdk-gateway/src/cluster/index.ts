/**
 * `@vespid/sdk-gateway/cluster` — the contract between a gateway and its cluster backend, for those who
 * implement one (the built-in is `redisCluster()` at `@vespid/sdk-gateway/redis`). Embedders never need
 * it: they pass a cluster to `createGateway({ cluster })` and call `await gateway.start()`. Types only;
 * this subpath loads no code. Advanced: the contract may change in a minor release while on 0.x.
 *
 * @example
 * ```ts
 * import type { ClusterHooks, GatewayCluster, ReserveOutcome } from '@vespid/sdk-gateway/cluster';
 *
 * function natsCluster(nc: NatsConnection): GatewayCluster {
 *   let hooks: ClusterHooks | undefined;
 *   return { replicaId: 'gw-1', bind: (h) => void (hooks = h), start: async () => {}, ... };
 * }
 * ```
 *
 * @packageDocumentation
 */
export type {
  AgentPresence,
  ClusterEnqueueOutcome,
  ClusterHooks,
  ForwardOutcome,
  ForwardedExecute,
  GatewayCluster,
  ReserveOutcome,
  ReserveRequest,
} from './cluster-types.js';
