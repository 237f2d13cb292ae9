import {
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_PAYLOAD_BYTES,
  LIMITS,
  type Logger,
  noopLogger,
  TagSchema,
  formatZodIssues,
} from '@vespid/protocol';
import { z } from 'zod';
import { AgentError } from './errors.js';
import type { Executor } from './executor.js';
import { readCaFile } from './network.js';
import type { TracingOption } from './tracing.js';
import { AGENT_VERSION } from './version.js';

const ExecutorSchema = z.custom<Executor>(
  (v) => !!v && typeof v === 'object' && typeof (v as Executor).kind === 'string' && typeof (v as Executor).execute === 'function',
  'must be an Executor ({ kind, execute })',
);

export const AgentOptionsSchema = z.strictObject({
  gatewayWsUrl: z.url({ protocol: /^wss?$/ }),
  agentToken: z.string().min(1).max(1024),
  name: z.string().min(1).max(LIMITS.nameLength),
  tags: z.array(TagSchema).max(LIMITS.tagsPerAgent).default([]),
  maxInFlight: z.number().int().min(1).max(LIMITS.maxInFlight).default(DEFAULT_MAX_IN_FLIGHT),
  executors: z.array(ExecutorSchema).min(1, 'register at least one executor'),
  logger: z.custom<Logger>().default(noopLogger),
  agentVersion: z.string().min(1).max(64).default(AGENT_VERSION),
  workdir: z.string().min(1).optional(),
  stateDir: z.string().min(1).optional(),
  outboxMaxEntries: z.number().int().min(1).max(1_000_000).default(1000),
  outboxMaxBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  ca: z.union([z.string(), z.instanceof(Buffer)]).optional(),
  proxyForUrl: z.custom<(url: string) => string | undefined>((v) => typeof v === 'function').optional(),
  connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  heartbeatMs: z.number().int().min(50).max(600_000).optional(),
  missedPongs: z.number().int().min(2).max(20).default(3),
  maxPayloadBytes: z.number().int().min(1024).default(DEFAULT_MAX_PAYLOAD_BYTES),
  abortGraceMs: z.number().int().min(0).max(600_000).default(5_000),
  reconnect: z
    .strictObject({
      initialDelayMs: z.number().int().min(1).default(500),
      maxDelayMs: z.number().int().min(1).default(30_000),
      factor: z.number().min(1).max(10).default(2),
    })
    .default({ initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 }),
  random: z.custom<() => number>((v) => typeof v === 'function').default(() => Math.random),
  persistToken: z.custom<PersistToken>((v) => typeof v === 'function').optional(),
  tracing: z
    .union([
      z.boolean(),
      z.strictObject({
        tracerProvider: z
          .custom<{ getTracer(name: string): unknown }>((v) => typeof (v as { getTracer?: unknown } | null)?.getTracer === 'function')
          .optional(),
      }),
    ])
    .default(false),
});

/**
 * Stores a rotated agent token durably (e.g. rewrites the config file atomically); resolves once it is
 * safe on disk. Throwing keeps the old token. Never log `token`.
 *
 * @example
 * ```ts
 * const persistToken: PersistToken = (token) => writeAgentConfig(path, { ...config, agentToken: token });
 * ```
 */
export type PersistToken = (token: string, info: { expiresAt?: number | undefined }) => Promise<void>;

/**
 * Options of `createAgent`. Durations in ms.
 *
 * @example
 * ```ts
 * const options: AgentOptions = { gatewayWsUrl: 'ws://localhost:3002/ws', agentToken, name: 'edge-1', executors };
 * ```
 */
export interface AgentOptions {
  /** Gateway WebSocket URL, e.g. `ws://localhost:3002/ws` or `wss://gw.example.com/ws`. */
  gatewayWsUrl: string;
  /** `<orgId>.<secret>` token from pairing. Sent only as `Authorization: Bearer`. */
  agentToken: string;
  /** Agent name reported in `hello`. */
  name: string;
  /** Tags reported in `hello` (routing uses the control plane's tags). @default [] */
  tags?: string[];
  /** Tasks run at once; reported in `hello`. @default 10 */
  maxInFlight?: number;
  /** Executors by kind (at least one); their kinds and connectors make up the `hello` capabilities. */
  executors: Executor[];
  /** pino-compatible logger. @default noopLogger */
  logger?: Logger;
  /** @default the package version */
  agentVersion?: string;
  /** Root for per-run work directories, handed to executors. */
  workdir?: string;
  /**
   * Directory for the agent's durable state: the result outbox journal (`outbox.journal`, mode 0600).
   * With it, finished results survive a crash and are resent after a restart, and tasks cut short by
   * a crash are reported as `AGENT_RESTARTED`. Without it, unacknowledged results live in memory only.
   * The node-agent host uses `VESPID_AGENT_STATE_DIR`, else the directory of its config file.
   */
  stateDir?: string;
  /**
   * Bound of the outbox: with this many results waiting for `execute_ack`, new tasks are refused with
   * `AGENT_OUTBOX_FULL` (retryable) until acks free space; produced results are never dropped. @default 1000
   */
  outboxMaxEntries?: number;
  /** Same bound in bytes of unacknowledged results. @default 64 MiB */
  outboxMaxBytes?: number;
  /** PEM of a private CA for `wss://` (see `readCaFile`). */
  ca?: string | Buffer;
  /** Proxy picker; defaults to `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`. */
  proxyForUrl?: (url: string) => string | undefined;
  /** Upgrade + `hello_ack` timeout. @default 10000 */
  connectTimeoutMs?: number;
  /** Ping interval; defaults to the gateway's `hello_ack.heartbeatMs`. */
  heartbeatMs?: number;
  /** Heartbeat intervals without a pong before the gateway is declared dead. @default 3 */
  missedPongs?: number;
  /** Largest frame accepted or sent. @default 1 MiB */
  maxPayloadBytes?: number;
  /**
   * How long an executor that ignores its abort signal keeps its concurrency slot after the abort (its
   * result is reported at once either way). @default 5000
   */
  abortGraceMs?: number;
  /** Full-jitter reconnect backoff. @default { initialDelayMs: 500, maxDelayMs: 30000, factor: 2 } */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; factor?: number };
  /** Random source in [0,1) for jitter (tests). @default Math.random */
  random?: () => number;
  /**
   * Enables in-band token rotation: the agent announces the `rotate_token` feature in `hello`, and on
   * `rotate_token` calls this to store the new token, switches to it for every later connect, then
   * acknowledges. Without it the agent never announces the feature and is never sent a new token
   * (it could not keep one across a restart). See {@link saveTokenToConfigFile}.
   */
  persistToken?: PersistToken;
  /**
   * OpenTelemetry spans per task (`vespid.agent.execute`, `vespid.agent.executor`), continuing the
   * gateway's trace; the agent then announces the `trace` feature in `hello`. `true`: the global tracer
   * provider; `{ tracerProvider }`: that one. Needs the optional peer `@opentelemetry/api`
   * (`OPTIONAL_DEPENDENCY_MISSING` otherwise). @default false
   */
  tracing?: TracingOption;
}

export type ResolvedAgentOptions = z.infer<typeof AgentOptionsSchema>;

/** Validates options once; errors name the field but never echo the token. */
export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  const parsed = AgentOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new AgentError('AGENT_CONFIG_INVALID', `invalid agent options: ${formatZodIssues(parsed.error)}`);
  }
  const kinds = new Set<string>();
  for (const e of parsed.data.executors) {
    if (kinds.has(e.kind)) throw new AgentError('AGENT_CONFIG_INVALID', `two executors registered for kind ${e.kind}`);
    kinds.add(e.kind);
  }
  return parsed.data;
}

/**
 * Reads the agent runtime's environment variables (runbook names): `VESPID_AGENT_WORKDIR_ROOT`,
 * `VESPID_AGENT_TLS_CA_FILE` (an unreadable file throws `AGENT_CONFIG_INVALID`), and the outbox's
 * `VESPID_AGENT_STATE_DIR`, `VESPID_AGENT_OUTBOX_MAX_ENTRIES`, `VESPID_AGENT_OUTBOX_MAX_BYTES`.
 * Proxies are read from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` at connect time.
 *
 * @example
 * ```ts
 * createAgent({ ...agentOptionsFromEnv(process.env), gatewayWsUrl, agentToken, name, executors });
 * ```
 */
export function agentOptionsFromEnv(env: Record<string, string | undefined>): Pick<AgentOptions, EnvOption> {
  const out: Pick<AgentOptions, EnvOption> = {};
  if (env.VESPID_AGENT_WORKDIR_ROOT) out.workdir = expandHome(env.VESPID_AGENT_WORKDIR_ROOT, env);
  if (env.VESPID_AGENT_STATE_DIR) out.stateDir = expandHome(env.VESPID_AGENT_STATE_DIR, env);
  const maxEntries = positiveInt(env, 'VESPID_AGENT_OUTBOX_MAX_ENTRIES');
  if (maxEntries !== undefined) out.outboxMaxEntries = maxEntries;
  const maxBytes = positiveInt(env, 'VESPID_AGENT_OUTBOX_MAX_BYTES');
  if (maxBytes !== undefined) out.outboxMaxBytes = maxBytes;
  const ca = readCaFile(env.VESPID_AGENT_TLS_CA_FILE);
  if (ca) out.ca = ca;
  return out;
}

type EnvOption = 'workdir' | 'ca' | 'stateDir' | 'outboxMaxEntries' | 'outboxMaxBytes';

function positiveInt(env: Record<string, string | undefined>, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new AgentError('AGENT_CONFIG_INVALID', `${name} must be a positive integer`);
  return n;
}

/**
 * `~/x` → `$HOME/x`.
 *
 * @example
 * ```ts
 * expandHome('~/.vespid/workdir'); // '/home/me/.vespid/workdir'
 * ```
 */
export function expandHome(path: string, env: Record<string, string | undefined> = process.env): string {
  if (path === '~' || path.startsWith('~/')) return `${env.HOME ?? env.USERPROFILE ?? ''}${path.slice(1)}`;
  return path;
}
