/**
 * Composes the example worker: Postgres (runs, events, blocked cursors), sdk-dispatch's continuation
 * runner (Redis push + polling, or polling alone), the `workflow-runs` queue (BullMQ or in-process)
 * and a sweeper that resumes runs a crashed worker left behind.
 */
import { ErrorCodes, type ErrorInfo, type Logger, noopLogger } from '@vespid/protocol';
import {
  connectorActionExecutor,
  createDestinationPolicy,
  type DestinationPolicy,
  githubConnector,
  httpConnector,
} from '@vespid/sdk-agent';
import { createContinuationRunner, dispatchClientFromEnv, type ContinuationRunner, type DispatchClient } from '@vespid/sdk-dispatch';
import { postgresCursorStore } from '@vespid/sdk-dispatch/postgres';
import { bullmqQueue, redisResultPush } from '@vespid/sdk-dispatch/redis';
import {
  createPool,
  kekFromEnv,
  loadSecretValue,
  migrate,
  redisNamesFromEnv,
  type Kek,
  type Pool,
  type PoolClient,
} from '@vespid/example-db';
import { Redis } from 'ioredis';
import { type WorkerConfig, workerConfigFromEnv } from './config.js';
import { createWorkflowEngine, type RunJob, type WorkflowEngine } from './engine.js';
import { recordNodeQueued } from './node-queued.js';
import { bullmqRunQueueConsumer, inProcessRunQueueConsumer, type RunQueueConsumer } from './run-queue.js';
import { findStalledRuns } from './runs.js';
import { createWorkerMetrics, serveMetrics } from './metrics.js';

export interface WorkerHostOptions {
  env?: NodeJS.ProcessEnv;
  /** Use this pool instead of one from DATABASE_URL (the demo shares one). Not ended by close(). */
  pool?: Pool;
  logger?: Logger;
  /** BullMQ key prefix (tests isolate by it). @default env BULLMQ_PREFIX, else `<VESPID_REDIS_PREFIX>:bull`, else BullMQ's `bull` */
  bullPrefix?: string;
  /** Result channel of the gateway (tests isolate by it). @default `gateway:results` under `VESPID_REDIS_PREFIX` */
  resultChannel?: string;
}

export interface WorkerHost {
  engine: WorkflowEngine;
  runner: ContinuationRunner | undefined;
  runQueue: RunQueueConsumer;
  config: WorkerConfig;
  /** `http://host:port/metrics` when `WORKFLOW_METRICS_PORT` is set. */
  metricsUrl: string | undefined;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export async function startWorkerHost(options: WorkerHostOptions = {}): Promise<WorkerHost> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? noopLogger;
  const config = workerConfigFromEnv(env);
  const names = redisNamesFromEnv(env);
  // Cloud-mode connectors run workflow-supplied URLs inside our own network: only public addresses,
  // plus what the operator lists, so a member cannot read internal services or cloud metadata (SSRF).
  let destinations: DestinationPolicy;
  try {
    destinations = createDestinationPolicy({ allow: ['public', ...config.httpAllowlist] });
  } catch (err) {
    throw new Error(`WORKFLOW_HTTP_ALLOWLIST: ${(err as Error).message}`);
  }

  const ownPool = !options.pool;
  if (!options.pool && !config.databaseUrl) throw new Error('DATABASE_URL is not set');
  const pool = options.pool ?? createPool(config.databaseUrl!, { schema: config.databaseSchema, applicationName: 'vespid-worker' });
  await migrate(pool, { schema: config.databaseSchema });

  let kek: Kek | undefined;
  const loadSecret = async (organizationId: string, secretId: string): Promise<string> => {
    kek ??= kekFromEnv(env);
    return loadSecretValue(pool, kek, { organizationId, secretId });
  };

  const bullPrefix = options.bullPrefix ?? (env.BULLMQ_PREFIX?.trim() || names.bullPrefix);
  let client: DispatchClient | undefined;
  let remoteUnavailable: ErrorInfo | undefined;
  try {
    client = dispatchClientFromEnv(env, { logger });
  } catch (err) {
    remoteUnavailable = { code: ErrorCodes.GATEWAY_NOT_CONFIGURED, message: (err as Error).message };
    logger.warn({ code: remoteUnavailable.code }, 'remote nodes will fail: set GATEWAY_HTTP_URL and GATEWAY_SERVICE_TOKEN');
  }

  let runQueue: RunQueueConsumer | undefined;
  const schedule = (job: RunJob, stepKey: string, delayMs?: number) => runQueue!.schedule(job, stepKey, delayMs);
  const engine = createWorkflowEngine({
    pool,
    cloudExecutors: [connectorActionExecutor({ connectors: [httpConnector({ destinations }), githubConnector({ destinations })] })],
    loadSecret,
    schedule,
    nodeMaxAttempts: config.nodeMaxAttempts,
    nodeRetryDelayMs: config.nodeRetryDelayMs,
    nodeExecTimeoutMs: config.nodeExecTimeoutMs,
    nodeQueueTimeoutMs: config.nodeQueueTimeoutMs,
    inProcessContinuations: config.runConcurrency,
    ...(remoteUnavailable ? { remoteUnavailable } : {}),
    logger,
  });

  const metrics = createWorkerMetrics(pool);
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: null }) : undefined;
  let runner: ContinuationRunner | undefined;
  if (client) {
    const store = postgresCursorStore({ pool, schema: config.databaseSchema, logger });
    await store.migrate();
    runner = createContinuationRunner<PoolClient>({
      client,
      store,
      // Without REDIS_URL: the runner's in-process queue and polling.
      ...(config.redisUrl
        ? {
            queue: bullmqQueue({
              connection: config.redisUrl,
              queueName: config.queueName,
              concurrency: config.concurrency,
              // Continuations under the same BULLMQ_PREFIX as runs: with the default prefix, workers of another
              // deployment on this Redis took these jobs, found no cursor in their database and dropped them.
              ...(bullPrefix ? { prefix: bullPrefix } : {}),
              logger,
            }),
            push: redisResultPush({ connection: config.redisUrl, channel: options.resultChannel ?? names.resultChannel, logger }),
          }
        : {}),
      nodeExecTimeoutMs: config.nodeExecTimeoutMs,
      pollMs: config.pollMs,
      concurrency: config.concurrency,
      onBlocked: (e) => engine.onBlocked(e),
      onResult: (e) => engine.onResult(e),
      resolveSecret: async (cursor) => {
        const secretId = (cursor.data as { secretId?: string } | undefined)?.secretId;
        return secretId ? loadSecret(cursor.organizationId, secretId) : undefined;
      },
      logger,
    });
    runner.on('applied', (e) => {
      engine.onApplied(e);
      metrics.resultApplied(e);
    });
    runner.on('queued', (e) => recordNodeQueued(pool, e));
    runner.on('dispatched', (e) => engine.onDispatched(e));
    engine.attachRunner(runner);
  }

  const handler = (job: RunJob) => engine.processRun(job);
  runQueue = redis
    ? // BULLMQ_PREFIX must match the api's (it enqueues new runs there), or runs are never picked up.
      bullmqRunQueueConsumer({
        connection: redis,
        prefix: bullPrefix,
        concurrency: config.runConcurrency,
        handler,
        logger,
      })
    : inProcessRunQueueConsumer({ concurrency: config.runConcurrency, handler, logger });
  await runner?.start();

  // Runs left queued/running with no job (a worker died mid-step) are put back on the queue.
  const sweep = setInterval(() => {
    findStalledRuns(pool, config.runSweepMs)
      .then((runs) =>
        Promise.all(runs.map((r) => runQueue!.schedule({ runId: r.id, organizationId: r.organization_id }, `sweep-${Date.now()}`))),
      )
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'run sweep failed'));
  }, config.runSweepMs);
  sweep.unref();

  const metricsServer = config.metrics ? await serveMetrics(metrics.registry, config.metrics) : undefined;
  logger.info(
    { redis: Boolean(redis), remote: Boolean(runner), ...(metricsServer ? { metricsUrl: `${metricsServer.url}/metrics` } : {}) },
    'worker started',
  );
  let closing: Promise<void> | undefined;
  return {
    engine,
    runner,
    runQueue,
    config,
    metricsUrl: metricsServer ? `${metricsServer.url}/metrics` : undefined,
    close(closeOptions = {}) {
      closing ??= (async () => {
        clearInterval(sweep);
        if (metricsServer) {
          metricsServer.server.closeAllConnections();
          await new Promise((resolve) => metricsServer.server.close(resolve));
        }
        await runQueue!.close();
        await engine.drain();
        await runner?.close({ timeoutMs: closeOptions.timeoutMs ?? 10_000 });
        await client?.close();
        await redis?.quit().catch(() => {});
        if (ownPool) await pool.end();
      })();
      return closing;
    },
  };
}
