import type { Duplex } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';
import { turnBatcher } from '../adapters/turn-batching.js';

/**
 * Per-turn write batching for an ioredis client, shared by everything that sends on it (the result store
 * and cluster mode use one client): `hold()` before a command corks the sockets it may go out on until
 * the end of the current event-loop turn (`turnBatcher`), so the commands of many dispatches in one turn
 * share one write syscall per socket and arrive as one read on the server.
 *
 * A standalone client has one socket (`redis.stream`). An ioredis `Cluster` has none of its own: each
 * node has a connection, and the node a command goes to is only known inside the client. The first
 * `hold()` of a turn corks every master's socket (commands go to masters; a cork on a socket that
 * receives nothing this turn costs one uncork), later ones of the same turn do nothing.
 */
export type TurnHold = () => void;

// One hold per client: two stores on one client must not cork and uncork each other's turn twice.
const holds = new WeakMap<Redis | Cluster, TurnHold>();
const noop: TurnHold = () => {};

/** The hold of `redis` (one per client), or one that does nothing when batching is off. */
export function turnHold(redis: Redis | Cluster, enabled: boolean): TurnHold {
  if (!enabled) return noop;
  let hold = holds.get(redis);
  if (!hold) {
    // A standalone client's socket is read at each hold: ioredis replaces it on reconnect.
    hold = (redis as Cluster).isCluster === true ? clusterHold(redis as Cluster) : () => holdSocket((redis as { stream?: Duplex }).stream);
    holds.set(redis, hold);
  }
  return hold;
}

// One batcher per socket: ioredis replaces its stream on reconnect.
const batchers = new WeakMap<Duplex, () => void>();
function holdSocket(stream: Duplex | undefined): void {
  if (!stream || typeof stream.cork !== 'function') return;
  let batcher = batchers.get(stream);
  if (!batcher) {
    batcher = turnBatcher(stream);
    batchers.set(stream, batcher);
  }
  batcher();
}

function clusterHold(cluster: Cluster): TurnHold {
  let held = false;
  const release = () => {
    held = false;
  };
  return () => {
    if (held) return;
    held = true;
    setImmediate(release);
    for (const node of cluster.nodes('master')) holdSocket((node as { stream?: Duplex }).stream);
  };
}
