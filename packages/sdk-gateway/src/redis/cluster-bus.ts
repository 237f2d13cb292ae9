import { randomBytes } from 'node:crypto';
import { type Logger, StoredResultSchema, parseJsonSafe, formatZodIssues } from '@vespid/protocol';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import type { ClusterHooks, ForwardOutcome, ForwardedExecute } from '../cluster/cluster-types.js';
import type { TurnHold } from './client-batching.js';

const ExecuteSchema = z.object({
  requestId: z.string().min(1),
  organizationId: z.string().min(1),
  agentId: z.string().min(1),
  sessionId: z.string(),
  kind: z.string().min(1),
  payload: z.unknown(),
  secret: z.string().optional(),
  timeoutMs: z.number().int().min(1),
  origin: z.string().min(1),
  redelivery: z.boolean().optional(),
});

const MessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('x'), id: z.string(), m: ExecuteSchema }),
  z.object({ t: z.literal('a'), id: z.string(), ok: z.boolean() }),
  z.object({ t: z.literal('c'), requestId: z.string(), agentId: z.string(), reason: z.string() }),
  z.object({ t: z.literal('s'), r: StoredResultSchema }),
  // A liveness probe: counted by the publish, ignored by the receiver.
  z.object({ t: z.literal('p') }),
]);

type BusMessage = z.infer<typeof MessageSchema>;

interface Deps {
  redis: Redis | Cluster;
  /** Redis Cluster: the per-replica channels are sharded (SPUBLISH/SSUBSCRIBE); the broadcasts stay classic. */
  sharded: boolean;
  channelPrefix: string;
  movedChannel: string;
  /** Queued dispatch: broadcasts of organizations that got capacity while requests of them wait. */
  capacityChannel: string;
  replicaId: string;
  /** Per-turn write batching of the shared client. */
  hold: TurnHold;
  ackTimeoutMs: number;
  logger: Logger;
  hooks: () => ClusterHooks | null;
}

/**
 * Replica-to-replica messages over Redis pub/sub: one channel per replica. Pub/sub rather than a stream
 * because a forwarded execute may carry the request's secret, which must never be stored; PUBLISH also
 * says how many replicas listen, so a dead target is known at once (0) instead of after a timeout. On
 * Redis Cluster the per-replica channel is a sharded channel: a message goes to the one shard that owns
 * the channel instead of to every node, and SPUBLISH counts that shard's listeners just the same.
 */
export class ClusterBus {
  private readonly pending = new Map<string, { resolve: (o: ForwardOutcome) => void; timer: NodeJS.Timeout }>();
  private sub: Redis | Cluster | null = null;
  private seq = 0;
  private readonly nonce = randomBytes(4).toString('hex');

  constructor(private readonly deps: Deps) {}

  private channel(replicaId: string): string {
    return `${this.deps.channelPrefix}${replicaId}`;
  }

  async start(): Promise<void> {
    const { redis, sharded } = this.deps;
    // ioredis keeps one subscriber connection per shard (and re-subscribes after a failover) when asked to.
    const sub = sharded ? (redis as Cluster).duplicate([], { shardedSubscribers: true }) : (redis as Redis).duplicate();
    sub.on('error', (err: Error) => this.deps.logger.warn({ err: err.message }, 'cluster subscriber error'));
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.deps.movedChannel) this.moved(text);
      else if (channel === this.deps.capacityChannel) this.capacity(text);
      else this.receive(text);
    });
    this.sub = sub;
    if (sharded) {
      sub.on('smessage', (_channel: string, text: string) => this.receive(text));
      await sub.ssubscribe(this.channel(this.deps.replicaId));
      await sub.subscribe(this.deps.movedChannel, this.deps.capacityChannel);
    } else await sub.subscribe(this.channel(this.deps.replicaId), this.deps.movedChannel, this.deps.capacityChannel);
  }

  async send(target: string, message: BusMessage): Promise<number> {
    const text = JSON.stringify(message);
    const channel = this.channel(target);
    this.deps.hold();
    return this.deps.sharded ? Number(await this.deps.redis.spublish(channel, text)) : this.deps.redis.publish(channel, text);
  }

  /** How many replicas listen on `target`'s channel (0: it is gone). */
  probe(target: string): Promise<number> {
    return this.send(target, { t: 'p' });
  }

  /** Publishes an execute to its owner and waits for the acknowledgement (bounded by ackTimeoutMs). */
  async forward(target: string, m: ForwardedExecute): Promise<ForwardOutcome> {
    const id = `${this.nonce}.${++this.seq}`;
    const outcome = new Promise<ForwardOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve('unknown');
      }, this.deps.ackTimeoutMs);
      timer.unref?.();
      this.pending.set(id, { resolve, timer });
    });
    let receivers: number;
    try {
      receivers = await this.send(target, { t: 'x', id, m });
    } catch (err) {
      this.settle(id, 'unknown');
      throw err;
    }
    if (receivers === 0) this.settle(id, 'unreachable');
    return outcome;
  }

  async close(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.settle(id, 'unknown');
    const sub = this.sub;
    this.sub = null;
    if (!sub) return;
    await sub.quit().catch(() => sub.disconnect());
  }

  private settle(id: string, outcome: ForwardOutcome): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(outcome);
  }

  /** `<org>\n<sender>`: the sender already routes what it holds, so it ignores its own announcement. */
  private capacity(text: string): void {
    const [org, from] = text.split('\n');
    if (org && from !== this.deps.replicaId) this.deps.hooks()?.capacity?.(org);
  }

  private moved(text: string): void {
    const [agentId, replicaId] = text.split('\n');
    if (agentId && replicaId) this.deps.hooks()?.moved(agentId, replicaId);
  }

  private receive(text: string): void {
    let msg: BusMessage;
    try {
      const parsed = MessageSchema.safeParse(parseJsonSafe(text));
      if (!parsed.success) throw new Error(formatZodIssues(parsed.error, { max: 1 }));
      msg = parsed.data;
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message.slice(0, 200) }, 'invalid cluster message: ignored');
      return;
    }
    const hooks = this.deps.hooks();
    switch (msg.t) {
      case 'a':
        this.settle(msg.id, msg.ok ? 'accepted' : 'refused');
        return;
      case 'x': {
        const m = msg.m;
        const ack = (ok: boolean) =>
          this.send(m.origin, { t: 'a', id: msg.id, ok }).catch((err: unknown) =>
            this.deps.logger.warn({ requestId: m.requestId, err: (err as Error).message }, 'could not acknowledge a forward'),
          );
        const failed = (err: unknown) => {
          this.deps.logger.error({ requestId: m.requestId, err: (err as Error).message }, 'forwarded execute failed');
          return false;
        };
        let ok: boolean | Promise<boolean>;
        try {
          ok = hooks?.execute(m) ?? false;
        } catch (err) {
          ok = failed(err);
        }
        if (typeof ok === 'boolean') void ack(ok);
        else void ok.catch(failed).then(ack);
        return;
      }
      case 'c':
        hooks?.cancel(msg.requestId, msg.agentId, msg.reason);
        return;
      case 's':
        hooks?.settled(msg.r);
        return;
      case 'p':
        return;
      default: {
        // Exhaustive: a message kind added to the bus fails to compile here until it is handled.
        msg satisfies never;
        return;
      }
    }
  }
}
