/**
 * Worker configuration from env. The runbook's Worker variables keep their names and defaults (read by
 * sdk-dispatch's `continuationOptionsFromEnv`); the retry policy and sweep interval are this example's own.
 */
import { parseAllowlist } from '@vespid/sdk-agent';
import { continuationOptionsFromEnv, type ContinuationEnvOptions } from '@vespid/sdk-dispatch';

export interface WorkerConfig extends ContinuationEnvOptions {
  databaseUrl: string | undefined;
  databaseSchema: string;
  redisUrl: string | undefined;
  /** Attempts per node for the failures the worker retries (see `retry-policy.ts`: NO_AGENT_AVAILABLE, AGENT_DISCONNECTED, …). */
  nodeMaxAttempts: number;
  /** Delay before retry n is `nodeRetryDelayMs * 2^(n-1)`; the run waits on a delayed job meanwhile. */
  nodeRetryDelayMs: number;
  /** How often runs left `queued`/`running` without a job (a crashed worker) are picked up again. */
  runSweepMs: number;
  /** Concurrency of the run queue. */
  runConcurrency: number;
  /**
   * Destinations cloud-mode connectors may reach besides public addresses (CIDRs, IPs, host names,
   * `*.suffix`): loopback, private and link-local ranges are closed unless listed here.
   */
  httpAllowlist: string[];
  /** How long the gateway may hold a remote node waiting for an eligible agent (0: fail at once). */
  nodeQueueTimeoutMs: number;
  /** `WORKFLOW_METRICS_PORT` / `WORKFLOW_METRICS_HOST` (0.0.0.0): Prometheus `/metrics`; undefined = no listener. */
  metrics: { host: string; port: number } | undefined;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer between ${min} and ${max}`);
  return n;
}

/**
 * Reads NODE_EXEC_TIMEOUT_MS, WORKFLOW_CONTINUATION_* (runbook), DATABASE_URL, DATABASE_SCHEMA,
 * REDIS_URL, WORKFLOW_NODE_MAX_ATTEMPTS (3), WORKFLOW_NODE_RETRY_DELAY_MS (1000),
 * WORKFLOW_RUN_SWEEP_MS (30000), WORKFLOW_RUN_CONCURRENCY (10), WORKFLOW_HTTP_ALLOWLIST (empty),
 * WORKFLOW_NODE_QUEUE_TIMEOUT_MS (300000), WORKFLOW_METRICS_PORT (unset: no metrics listener),
 * WORKFLOW_METRICS_HOST (0.0.0.0).
 */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return {
    ...continuationOptionsFromEnv(env),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    databaseSchema: env.DATABASE_SCHEMA?.trim() || 'public',
    redisUrl: env.REDIS_URL?.trim() || undefined,
    nodeMaxAttempts: int(env, 'WORKFLOW_NODE_MAX_ATTEMPTS', 3, 1, 100),
    nodeRetryDelayMs: int(env, 'WORKFLOW_NODE_RETRY_DELAY_MS', 1000, 0, 3_600_000),
    runSweepMs: int(env, 'WORKFLOW_RUN_SWEEP_MS', 30_000, 100, 3_600_000),
    runConcurrency: int(env, 'WORKFLOW_RUN_CONCURRENCY', 10, 1, 1000),
    httpAllowlist: parseAllowlist(env.WORKFLOW_HTTP_ALLOWLIST),
    nodeQueueTimeoutMs: int(env, 'WORKFLOW_NODE_QUEUE_TIMEOUT_MS', 300_000, 0, 86_400_000),
    metrics: env.WORKFLOW_METRICS_PORT?.trim()
      ? { host: env.WORKFLOW_METRICS_HOST?.trim() || '0.0.0.0', port: int(env, 'WORKFLOW_METRICS_PORT', 0, 0, 65535) }
      : undefined,
  };
}
