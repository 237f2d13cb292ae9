import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Logger, type StoredResult, noopLogger, formatZodIssues } from '@vespid/protocol';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import type { AgentPresence, ClusterHooks, ForwardedExecute, GatewayCluster } from '../cluster/cluster-types.js';
import { turnHold } from './client-batching.js';
import { ClusterBus } from './cluster-bus.js';
import { REGISTER_SCRIPT, RESERVE_SCRIPT, UNREGISTER_SCRIPT } from './cluster-scripts.js';
import { RELEASE_SCRIPT } from './free-slot-index.js';
import { CAPACITY_SCRIPT, CLAIM_SCRIPT, ENQUEUE_SCRIPT, REQUEUE_SCRIPT } from './queue-scripts.js';
import { reserveCall, reserveOutcomeOf } from './reserve-call.js';

const OptionsSchema = z.object({
  redis: z.custom<Redis | Cluster>(
    (v) => !!v && typeof (v as Redis).evalsha === 'function' && typeof (v as Redis).duplicate === 'function',
    'redis must be an ioredis client (Redis or Cluster)',
  ),
  replicaId: z
    .string()
    .regex(/^[A-Za-z0-9._@-]{1,100}$/, 'replicaId must be 1-100 letters, digits or . _ @ -')
    .optional(),
  keyPrefix: z.string().min(1).default('gateway:cluster:'),
  presenceTtlMs: z.number().int().min(300).default(15_000),
  ackTimeoutMs: z.number().int().min(10).default(2000),
  orgMaxInFlight: z
    .union([
      z.number().int().min(1),
      z.custom<(organizationId: string) => number | undefined>(
        (v) => typeof v === 'function',
        'orgMaxInFlight must be a number or a function',
      ),
    ])
    .optional(),
  scanLimit: z.number().int().min(1).default(64),
  /**
   * Coalesce the commands sent per event-loop turn into one write per socket (every master's socket on a
   * `Cluster`), shared with a `redisResultStore` on the same client. @default true
   */
  batchWrites: z.boolean().default(true),
  logger: z
    .custom<Logger>((v) => !!v && typeof (v as Logger).warn === 'function', 'logger must be a pino-compatible logger')
    .default(noopLogger),
});

/**
 * Options of {@link redisCluster}.
 * @example
 * ```ts
 * const options: RedisClusterOptions = { redis, replicaId: 'gw-1', presenceTtlMs: 15_000, orgMaxInFlight: 500 };
 * ```
 */
export type RedisClusterOptions = z.input<typeof OptionsSchema>;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const SCRIPTS = {
  register: REGISTER_SCRIPT,
  unregister: UNREGISTER_SCRIPT,
  reserve: RESERVE_SCRIPT,
  release: RELEASE_SCRIPT,
  enqueue: ENQUEUE_SCRIPT,
  claim: CLAIM_SCRIPT,
  requeue: REQUEUE_SCRIPT,
  capacity: CAPACITY_SCRIPT,
} as const;
const SHAS = Object.fromEntries(Object.entries(SCRIPTS).map(([k, v]) => [k, sha1(v)])) as Record<keyof typeof SCRIPTS, string>;

const list = (items: readonly string[]) => `|${items.join('|')}|`;

/**
 * Cluster mode for several gateway replicas sharing one Redis: standalone, Sentinel or a Redis Cluster
 * (pass an ioredis `Cluster`; see `redisClientFromEnv`). Agent presence
 * and capacity live in Redis; selection plus in-flight reservation is one Lua script, so round robin,
 * least-in-flight and `maxInFlight` hold cluster-wide; a dispatch accepted by one replica for an agent
 * connected to another is forwarded over pub/sub with an acknowledgement; presence entries expire
 * `presenceTtlMs` after their replica stops refreshing them (it died). `orgMaxInFlight` caps each
 * organization's in-flight requests across all replicas (`RATE_LIMITED` beyond it).
 *
 * On Redis Cluster every key of one organization carries the hash tag `{<org>}` (its presence, pools,
 * reservations and queue share one slot, and each Lua script touches that slot only), and the
 * replica-to-replica messages use sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7+) on the channel of
 * the target replica; the two broadcasts (an agent moved, capacity for a queue) stay classic pub/sub.
 *
 * Pass it to `createGateway({ cluster })` with a shared result store (`redisResultStore`), and
 * `await gateway.start()` (which starts the cluster) before accepting traffic. `gateway.close()` drains
 * and closes it. The
 * client is yours: the cluster never closes it (it opens one duplicate connection for subscribing).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisCluster, redisResultStore } from '@vespid/sdk-gateway/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const cluster = redisCluster({ redis, replicaId: process.env.GATEWAY_REPLICA_ID });
 * const gateway = createGateway({ authenticator, serviceToken, resultStore: redisResultStore({ redis }), cluster });
 * await gateway.start(); // rejects if the subscription cannot be made
 * ```
 */
export function redisCluster(options: RedisClusterOptions): GatewayCluster {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new TypeError(`invalid redisCluster options: ${formatZodIssues(parsed.error)}`);
  const o = parsed.data;
  const { redis, logger } = o;
  const onCluster = (redis as Cluster).isCluster === true;
  const hold = turnHold(redis, o.batchWrites);
  const P = o.keyPrefix;
  const replicaId =
    o.replicaId ??
    `${hostname()
      .replace(/[^A-Za-z0-9._@-]/g, '-')
      .slice(0, 60)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const quotaFor = (org: string): number => {
    const q = typeof o.orgMaxInFlight === 'function' ? o.orgMaxInFlight(org) : o.orgMaxInFlight;
    return q && Number.isFinite(q) && q > 0 ? Math.floor(q) : 0;
  };
  const local = new Map<string, AgentPresence>();
  let hooks: ClusterHooks | null = null;
  let bus: ClusterBus | null = null;
  let starting: Promise<void> | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;
  let draining = false;
  let closed = false;

  const run = async (name: keyof typeof SCRIPTS, args: Array<string | number>, keys: string[]): Promise<unknown> => {
    try {
      // EVALSHA sends 40 bytes instead of the script; the script is loaded on the first miss.
      hold();
      return await redis.evalsha(SHAS[name], keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return redis.eval(SCRIPTS[name], keys.length, ...keys, ...args);
    }
  };
  // Every key of one org shares the hash tag {org}: one slot per org on Redis Cluster (cluster-scripts.ts).
  const queueKeys = (org: string) => [`${P}q:{${org}}`, `${P}qh:{${org}}`];
  const agentKey = (org: string, agentId: string) => `${P}a:{${org}}:${agentId}`;
  const capacityChannel = `${P}cap`;

  const poolsOf = (p: AgentPresence) => [
    ...p.kinds.map((k) => `${P}pk:{${p.organizationId}}:${k}`),
    ...p.tags.map((t) => `${P}pt:{${p.organizationId}}:${t}`),
  ];

  const write = (p: AgentPresence) =>
    run(
      'register',
      [
        P,
        p.agentId,
        replicaId,
        p.sessionId,
        p.organizationId,
        p.maxInFlight,
        list(p.kinds),
        p.connectors === null ? '*' : list(p.connectors),
        list(p.tags),
        o.presenceTtlMs,
        poolsOf(p).join('\n'),
        Date.now(),
      ],
      [agentKey(p.organizationId, p.agentId)],
    );

  // Refreshes every local presence a few times per TTL; one that vanished (Redis restart, a long pause)
  // is written again, so a live agent never stays invisible.
  const refresh = async () => {
    if (local.size === 0 || draining) return;
    const entries = [...local.values()];
    const keys = entries.map((p) => agentKey(p.organizationId, p.agentId));
    // A Redis Cluster pipeline must stay in one slot: one org's keys share its hash tag, so one pipeline
    // per org (one write and one reply batch per org instead of one round trip per agent); standalone
    // Redis takes them all in one.
    const groups = new Map<string, number[]>();
    entries.forEach((p, i) => {
      const group = onCluster ? p.organizationId : '';
      const at = groups.get(group);
      if (at) at.push(i);
      else groups.set(group, [i]);
    });
    const res: number[] = [];
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const pipe = redis.pipeline();
        for (const i of indexes) pipe.pexpire(keys[i]!, o.presenceTtlMs);
        const out = (await pipe.exec()) ?? [];
        for (const [j, i] of indexes.entries()) res[i] = Number(out[j]?.[1]);
      }),
    );
    await Promise.all(entries.map((p, i) => (res[i] === 0 && local.get(p.agentId) === p ? write(p) : null)));
  };

  const cluster: GatewayCluster = {
    replicaId,
    get closed() {
      return closed;
    },
    bind(h) {
      hooks = h;
    },
    start() {
      if (closed) return Promise.reject(new Error('cluster is closed'));
      starting ??= (async () => {
        bus = new ClusterBus({
          redis,
          channelPrefix: `${P}rx:`,
          movedChannel: `${P}moved`,
          capacityChannel,
          sharded: onCluster,
          hold,
          replicaId,
          ackTimeoutMs: o.ackTimeoutMs,
          logger,
          hooks: () => hooks,
        });
        await bus.start();
        refreshTimer = setInterval(
          () => void refresh().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'presence refresh failed')),
          Math.max(100, Math.floor(o.presenceTtlMs / 3)),
        );
        refreshTimer.unref?.();
        logger.info({ replicaId }, 'cluster replica started');
      })();
      return starting;
    },
    async register(p) {
      if (draining || closed) return;
      const copy = { ...p, kinds: [...p.kinds], tags: [...p.tags], connectors: p.connectors ? [...p.connectors] : null };
      local.set(p.agentId, copy);
      await write(copy);
    },
    async unregister(agentId, sessionId, organizationId) {
      if (local.get(agentId)?.sessionId === sessionId) local.delete(agentId);
      await run('unregister', [P, agentId, 's', sessionId], [agentKey(organizationId, agentId)]);
    },
    async reserve(r) {
      const quota = quotaFor(r.organizationId);
      const { keys, args } = reserveCall(P, r, quota, o.scanLimit);
      const { examined: _, ...outcome } = reserveOutcomeOf((await run('reserve', args, keys)) as Array<string | number>, quota);
      return outcome;
    },
    async release(r) {
      // One script: the org quota and the agent's slot both, always (a quota that changed since the
      // reservation must not strand the org's entry), and the agent back into the free-slot index.
      await run('release', [P, r.organizationId, r.agentId, r.requestId, Date.now()], [`${P}i:{${r.organizationId}}:${r.agentId}`]);
    },
    forward(target, message: ForwardedExecute) {
      if (!bus) return Promise.resolve('unknown' as const);
      return bus.forward(target, message);
    },
    async cancel(target, request) {
      await bus?.send(target, { t: 'c', ...request });
    },
    async notifySettled(target, result: StoredResult) {
      await bus?.send(target, { t: 's', r: result });
    },
    async locate(agentId, organizationId) {
      hold();
      const [r, s] = await redis.hmget(agentKey(organizationId, agentId), 'r', 's');
      return r && s ? { replicaId: r, sessionId: s } : null;
    },
    async isAlive(target) {
      if (target === replicaId) return !closed;
      // Sharded channels are counted by the shard that owns them: a probe message asks exactly that one.
      if (onCluster) return bus ? (await bus.probe(target)) > 0 : false;
      const res = (await redis.pubsub('NUMSUB', `${P}rx:${target}`)) as Array<string | number>;
      return Number(res[1] ?? 0) > 0;
    },
    async forget(agentId, target, organizationId) {
      await run('unregister', [P, agentId, 'r', target], [agentKey(organizationId, agentId)]);
    },
    async enqueue(e) {
      const out = (await run('enqueue', [e.requestId, replicaId, e.deadline, Date.now(), e.max], queueKeys(e.organizationId))) as Array<
        string | number
      >;
      if (out[0] === 'full') return { ok: false, reason: 'full' };
      return { ok: true, origin: String(out[1]), position: Number(out[2]), existing: out[0] === 'exists' };
    },
    async claimQueued(requestId, org) {
      const score = await run('claim', [requestId], queueKeys(org));
      return score === null || score === false || score === undefined ? { ok: false } : { ok: true, score: Number(score) };
    },
    async requeue(requestId, org, score, deadline) {
      await run('requeue', [requestId, score, replicaId, deadline], queueKeys(org));
    },
    async dequeue(requestId, org) {
      const [z, h] = queueKeys(org) as [string, string];
      await redis.pipeline().zrem(z, requestId).hdel(h, requestId).exec();
    },
    async adoptQueued(requestId, org, deadline) {
      const [z, h] = queueKeys(org) as [string, string];
      await redis.pipeline().hset(h, requestId, `${replicaId}|${deadline}`).zadd(z, 'NX', Date.now(), requestId).exec();
    },
    async announceCapacity(org) {
      // The announcement names its sender, which ignores its own (it already routes what it holds).
      return (await run('capacity', [capacityChannel, `${org}\n${replicaId}`], [queueKeys(org)[0]!, queueKeys(org)[1]!])) === 1;
    },
    async queueDepth(org) {
      return redis.hlen(queueKeys(org)[1]!);
    },
    async drain() {
      draining = true;
      const entries = [...local.values()];
      local.clear();
      await Promise.all(
        entries.map((p) => run('unregister', [P, p.agentId, 's', p.sessionId], [agentKey(p.organizationId, p.agentId)]).catch(() => {})),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      draining = true;
      if (refreshTimer) clearInterval(refreshTimer);
      refreshTimer = null;
      await starting?.catch(() => {});
      await cluster.drain();
      await bus?.close();
      bus = null;
    },
  };
  return cluster;
}
