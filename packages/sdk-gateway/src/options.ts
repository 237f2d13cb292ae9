import type { Logger } from '@vespid/protocol';
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_PAYLOAD_BYTES, noopLogger, formatZodIssues } from '@vespid/protocol';
import { z } from 'zod';
import type { AgentAuthenticator, TokenRotator } from './authenticator.js';
import type { GatewayCluster } from './cluster/cluster-types.js';
import type { GatewayMetrics } from './metrics.js';
import { noopMetrics } from './metrics.js';
import type { ResultStore } from './results/result-store.js';
import { SELECTION_NAMES, type SelectionStrategy, selectionByName } from './selection/strategy.js';

const removed = (option: string, event: string) =>
  z.undefined({ error: `${option} was removed: use gateway.on('${event}', listener)` }).optional();
const hasMethods = <T>(what: string, ...methods: string[]) =>
  z.custom<T>(
    (v) => !!v && typeof v === 'object' && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    `${what} must have ${methods.join(', ')}()`,
  );

/**
 * Validation schema of {@link GatewayOptions}. Unknown keys are ignored, so env config can be spread in.
 * @example
 * ```ts
 * const ok = GatewayOptionsSchema.safeParse({ authenticator }).success;
 * ```
 */
export const GatewayOptionsSchema = z.object({
  authenticator: hasMethods<AgentAuthenticator>('authenticator', 'authenticate'),
  serviceToken: z.string().min(1).optional(),
  selection: z.union([z.enum(SELECTION_NAMES), hasMethods<SelectionStrategy>('selection', 'select')]).default('least_in_flight_lru'),
  resultStore: hasMethods<ResultStore>('resultStore', 'get', 'lookup', 'put', 'recordDispatch').optional(),
  resultsTtlSec: z.number().int().min(1).default(900),
  staleMs: z.number().int().min(100).default(60_000),
  heartbeatMs: z.number().int().min(100).max(600_000).optional(),
  sweepIntervalMs: z.number().int().min(10).optional(),
  maxPayloadBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(DEFAULT_MAX_PAYLOAD_BYTES),
  maxPendingUpgrades: z.number().int().min(1).default(1000),
  defaultMaxInFlight: z.number().int().min(1).default(DEFAULT_MAX_IN_FLIGHT),
  /**
   * Requests one organization may have waiting for an agent (dispatches with `queueTimeoutMs`); beyond
   * it a dispatch gets 429 `QUEUE_FULL`. Hosts read it from `GATEWAY_ORG_MAX_QUEUED`.
   */
  orgMaxQueued: z.number().int().min(1).max(10_000_000).default(10_000),
  agentSeenIntervalMs: z.number().int().min(10).default(5000),
  /**
   * Requests one dispatch channel (`attachChannel`) may have in flight; beyond it a request frame is
   * answered 429 `RATE_LIMITED` (retryable). The client overflows to HTTP before it gets there.
   */
  channelMaxInFlight: z.number().int().min(1).max(1_000_000).default(4096),
  logger: hasMethods<Logger>('logger', 'debug', 'info', 'warn', 'error').default(noopLogger),
  metrics: hasMethods<GatewayMetrics>('metrics', 'connectedAgents', 'inFlight', 'dispatchCompleted', 'dispatchRejected').default(
    noopMetrics,
  ),
  cluster: hasMethods<GatewayCluster>(
    'cluster',
    'bind',
    'start',
    'register',
    'unregister',
    'reserve',
    'release',
    'forward',
    'drain',
    'close',
  ).optional(),
  /** In-band token rotation (`rotate_token`); without it the gateway never rotates tokens. */
  tokenRotator: hasMethods<TokenRotator>('tokenRotator', 'issue', 'activate').optional(),
  /** How long the gateway waits for `rotate_token_ack` before giving up (the agent keeps its old token). */
  rotationAckTimeoutMs: z.number().int().min(10).max(600_000).default(30_000),
  /**
   * OpenTelemetry spans for dispatches (receive, select, queue, send, result), continuing the caller's
   * W3C trace context and passing it to agents that announce `trace`. `true`: the global tracer
   * provider; `{ tracerProvider }`: that one. Needs the optional peer `@opentelemetry/api`
   * (`OPTIONAL_DEPENDENCY_MISSING` otherwise). @default false
   */
  tracing: z
    .union([
      z.boolean(),
      z.object({ tracerProvider: hasMethods<{ getTracer(name: string): unknown }>('tracerProvider', 'getTracer').optional() }),
    ])
    .default(false),
  // Removed in favour of `gateway.on()`. Unknown keys are ignored, so without these lines a host still
  // passing one would silently lose its hook; the error names the event that replaces it.
  onAgentSeen: removed('onAgentSeen', 'agents.seen'),
  onAgentHello: removed('onAgentHello', 'agent.connected'),
  onAgentDisconnected: removed('onAgentDisconnected', 'agent.disconnected'),
});

/**
 * Options of `createGateway`.
 *
 * @example
 * ```ts
 * const options: GatewayOptions = {
 *   authenticator,                 // token → agent identity (required)
 *   serviceToken: process.env.GATEWAY_SERVICE_TOKEN, // protects /internal/v1/*
 *   selection: 'round_robin',      // or leastInFlightLru(), roundRobin(), your own strategy
 *   resultStore: redisResultStore({ redis }),  // default: memoryResultStore({ ttlSec: resultsTtlSec })
 *   staleMs: 60_000,               // sessions silent longer than this are closed with 4408
 *   orgMaxQueued: 10_000,          // requests per org waiting for an agent (queueTimeoutMs); beyond: 429 QUEUE_FULL
 *   cluster: redisCluster({ redis }), // several replicas sharing Redis (see `@vespid/sdk-gateway/redis`)
 * };
 * ```
 */
export type GatewayOptions = z.input<typeof GatewayOptionsSchema>;

/**
 * Options with defaults resolved once.
 * @example
 * ```ts
 * const { heartbeatMs, selection } = resolveGatewayOptions({ authenticator, staleMs: 30_000 });
 * ```
 */
export interface ResolvedGatewayOptions
  extends Omit<z.output<typeof GatewayOptionsSchema>, 'selection' | 'heartbeatMs' | 'sweepIntervalMs'> {
  selection: SelectionStrategy;
  heartbeatMs: number;
  sweepIntervalMs: number;
}

/**
 * Validates options and resolves defaults; throws a `BAD_REQUEST`-style TypeError listing the fields.
 * @example
 * ```ts
 * resolveGatewayOptions({ authenticator, staleMs: 30_000 }).heartbeatMs; // 10000
 * ```
 */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const parsed = GatewayOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(`invalid gateway options: ${formatZodIssues(parsed.error, { max: 10 })}`);
  }
  const o = parsed.data;
  const selection = typeof o.selection === 'string' ? selectionByName(o.selection) : o.selection;
  // Three pings per stale window: one lost ping never closes a healthy session.
  const heartbeatMs = o.heartbeatMs ?? Math.min(600_000, Math.max(100, Math.floor(o.staleMs / 3)));
  const sweepIntervalMs = o.sweepIntervalMs ?? Math.max(10, Math.min(5000, Math.floor(o.staleMs / 4)));
  return { ...o, selection, heartbeatMs, sweepIntervalMs };
}
