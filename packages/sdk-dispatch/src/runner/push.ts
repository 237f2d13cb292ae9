import { type Logger, type StoredResult, StoredResultSchema, parseJsonSafe } from '@vespid/protocol';
import { Redis } from 'ioredis';

/** A subscription to the gateway's result publications. */
export interface ResultSubscription {
  close(): Promise<void>;
}

/**
 * Subscribes to `channel` on its own connection (a subscribed ioredis connection cannot run other
 * commands). Invalid messages are logged and dropped; while disconnected messages are lost, which is
 * why the runner also polls. ioredis re-subscribes after a reconnect on its own; `onReconnect` then
 * lets the runner look for what it missed.
 */
export async function subscribeResults(
  connection: string | Redis,
  channel: string,
  onResult: (result: StoredResult) => void,
  logger: Logger,
  onReconnect?: () => void,
): Promise<ResultSubscription> {
  const sub = typeof connection === 'string' ? new Redis(connection) : connection.duplicate();
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
