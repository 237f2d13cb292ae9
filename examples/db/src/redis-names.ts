/**
 * The one table of Redis key and channel names the example hosts (api, gateway, worker) use, so that
 * `VESPID_REDIS_PREFIX` puts every one of them under one namespace. Without it, two stacks sharing a
 * Redis saw each other's revocations ("agent revoked by control plane" for agents they never had) and
 * result publications. Unset, every name is byte-identical to the library defaults (the runbook's
 * `gateway:results:<requestId>`).
 */
import { CONTROL_CHANNEL, RESULT_CHANNEL, RESULT_KEY_PREFIX } from '@vespid/protocol';

/** Every Redis name of one stack. */
export interface RedisNames {
  /** `VESPID_REDIS_PREFIX` as given; undefined when unset. */
  prefix: string | undefined;
  /** Control events api → gateways. @default 'vespid:control' */
  controlChannel: string;
  /** Stored results, `<resultKeyPrefix><requestId>`. @default 'gateway:results:' */
  resultKeyPrefix: string;
  /** Result publications gateway → workers. @default 'gateway:results' */
  resultChannel: string;
  /** In-flight dispatch records of the gateway. @default 'gateway:dispatches:' */
  dispatchKeyPrefix: string;
  /** Cluster-mode presence, selection and forwarding. @default 'gateway:cluster:' */
  clusterKeyPrefix: string;
  /** BullMQ prefix of the run and continuation queues; undefined = BullMQ's own default `bull`. */
  bullPrefix: string | undefined;
  /** The api's rate-limit counters. @default 'vespid-api-rl:' */
  rateLimitNamespace: string;
}

/** Library defaults: what a stack uses with `VESPID_REDIS_PREFIX` unset. */
const DEFAULTS = {
  controlChannel: CONTROL_CHANNEL,
  resultKeyPrefix: RESULT_KEY_PREFIX,
  resultChannel: RESULT_CHANNEL,
  dispatchKeyPrefix: 'gateway:dispatches:',
  clusterKeyPrefix: 'gateway:cluster:',
  rateLimitNamespace: 'vespid-api-rl:',
} as const;

// Letters, digits and . _ - plus braces, so a Redis Cluster hash tag (`{stack-a}`) can be the prefix.
const PREFIX = /^[A-Za-z0-9._{}-]{1,64}$/;

/**
 * Redis names for a prefix: each default name becomes `<prefix>:<name>` (the BullMQ prefix becomes
 * `<prefix>:bull`). Throws a one-line `Error` naming the variable when the prefix is malformed.
 *
 * @example
 * ```ts
 * redisNames('stack-a').controlChannel; // 'stack-a:vespid:control'
 * redisNames(undefined).resultKeyPrefix; // 'gateway:results:'
 * ```
 */
export function redisNames(prefix: string | undefined): RedisNames {
  const p = prefix?.trim() || undefined;
  if (p === undefined) return { prefix: undefined, bullPrefix: undefined, ...DEFAULTS };
  if (!PREFIX.test(p)) throw new Error('VESPID_REDIS_PREFIX must be 1-64 letters, digits or . _ - { }');
  const names = Object.fromEntries(Object.entries(DEFAULTS).map(([k, v]) => [k, `${p}:${v}`])) as Record<keyof typeof DEFAULTS, string>;
  return { prefix: p, bullPrefix: `${p}:bull`, ...names };
}

/**
 * {@link redisNames} for `VESPID_REDIS_PREFIX` of `env`.
 *
 * @example
 * ```ts
 * const names = redisNamesFromEnv(process.env);
 * await subscriber.subscribe(names.controlChannel);
 * ```
 */
export function redisNamesFromEnv(env: Record<string, string | undefined>): RedisNames {
  return redisNames(env.VESPID_REDIS_PREFIX);
}
