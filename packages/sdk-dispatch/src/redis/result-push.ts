import { type Logger, RESULT_CHANNEL, type StoredResult, StoredResultSchema, noopLogger, parseJsonSafe } from '@vespid/protocol';
import type { Cluster, Redis } from 'ioredis';
import type { ResultPush, ResultSubscription } from '../runner/result-push.js';
import { loadRedisPeer } from './load.js';

/**
 * Options of {@link redisResultPush}.
 *
 * @example
 * ```ts
 * redisResultPush({ connection: 'redis://127.0.0.1:6379', channel: 'gateway:results' });
 * redisResultPush({ connection: new Cluster([{ host: '10.0.0.1', port: 7000 }]) }); // a Redis Cluster
 * ```
 */
export interface RedisResultPushOptions {
  /**
   * A Redis URL, or an ioredis client to copy settings from: a `Redis` (standalone, Sentinel) or a
   * `Cluster`. The subscription opens its own connection; your client is never used or closed.
   */
  connection: string | Redis | Cluster;
  /** Channel the gateway publishes results on. @default 'gateway:results' */
  channel?: string;
  logger?: Logger;
}

/**
 * The gateway's Redis result publications as the runner's {@link ResultPush}. Each subscription has its
 * own connection (a subscribed ioredis connection cannot run other commands). Invalid messages are
 * logged and dropped; while disconnected messages are lost, which is why the runner also polls.
 * ioredis re-subscribes after a reconnect on its own; `onReconnect` then lets the runner look for what
 * it missed. Needs the optional peer `ioredis` (`OPTIONAL_DEPENDENCY_MISSING` otherwise).
 *
 * On a Redis Cluster (pass an ioredis `Cluster`), the gateway's classic PUBLISH reaches subscribers on
 * every node, so the subscription is one connection to any node (ioredis' cluster subscriber). When
 * that node goes away, ioredis moves the subscription to another node without an event: `onReconnect`
 * is called only when the whole cluster client reconnects, and what was published in between is found
 * by the runner's polling.
 *
 * @example
 * ```ts
 * import { bullmqQueue, redisResultPush } from '@vespid/sdk-dispatch/redis';
 *
 * const runner = createContinuationRunner({
 *   client, store, onResult,
 *   queue: bullmqQueue({ connection: process.env.REDIS_URL! }),
 *   push: redisResultPush({ connection: process.env.REDIS_URL! }),
 * });
 * ```
 */
export function redisResultPush(options: RedisResultPushOptions): ResultPush {
  const channel = options.channel ?? RESULT_CHANNEL;
  const logger = options.logger ?? noopLogger;
  return {
    name: `redis:${channel}`,
    async subscribe({ onResult, onReconnect }) {
      // Loaded on first use: a missing ioredis rejects subscribe() (so runner.start()) with OPTIONAL_DEPENDENCY_MISSING.
      const { Redis } = await loadRedisPeer('ioredis');
      const sub = typeof options.connection === 'string' ? new Redis(options.connection) : options.connection.duplicate();
      return subscribe(sub, channel, onResult, logger, onReconnect);
    },
  };
}

async function subscribe(
  sub: Redis | Cluster,
  channel: string,
  onResult: (result: StoredResult) => void,
  logger: Logger,
  onReconnect?: () => void,
): Promise<ResultSubscription> {
  let subscribed = false;
  // Every `ready` after the first subscription is a reconnect (ioredis re-subscribes by itself).
  sub.on('ready', () => {
    if (subscribed) onReconnect?.();
  });
  sub.on('error', (err) => logger.warn({ channel, err: err.message }, 'result subscription error'));
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    let parsed: ReturnType<typeof StoredResultSchema.safeParse>;
    try {
      parsed = StoredResultSchema.safeParse(parseJsonSafe(message));
    } catch {
      logger.warn({ channel }, 'dropped a result publication that is not JSON');
      return;
    }
    if (!parsed.success) {
      logger.warn({ channel }, 'dropped a result publication that is not a protocol v1 result');
      return;
    }
    onResult(parsed.data);
  });
  try {
    await sub.subscribe(channel);
    subscribed = true;
  } catch (err) {
    sub.disconnect();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= sub
        .quit()
        .then(() => undefined)
        .catch(() => sub.disconnect());
      return closed;
    },
  };
}
