/**
 * Starts the control plane (api), the gateway and the worker in this process, wired either through
 * Redis (REDIS_URL set: BullMQ run queue, `vespid:control`, Redis results + push) or in-process
 * (no Redis: the api hands runs straight to the worker and control events straight to the gateway).
 * The node-agent is NOT started here: it runs as its own process, as an operator would run it.
 */
import { inProcessControlBus, startApiHost, type ApiHost } from '@vespid/example-api';
import { applyParsedControlEvent, startGatewayHost, type GatewayHost } from '@vespid/example-gateway';
import { startWorkerHost, type WorkerHost } from '@vespid/example-worker';
import type { Logger } from '@vespid/protocol';

export interface StackOptions {
  databaseUrl: string;
  databaseSchema?: string;
  redisUrl?: string | undefined;
  /** 0 = any free port. */
  apiPort: number;
  gatewayPort: number;
  serviceToken: string;
  kekId: string;
  kekBase64: string;
  /** BullMQ prefix, so several stacks can share one Redis. */
  bullPrefix?: string;
  /**
   * Gateway replicas (cluster mode, needs redisUrl). Agents reach the first, the worker dispatches to
   * the last, so every node execution crosses replicas through Redis. @default 1
   */
  gatewayReplicas?: number;
  /** Extra env for every host (e.g. NODE_EXEC_TIMEOUT_MS, GATEWAY_AGENT_STALE_MS). */
  env?: Record<string, string | undefined>;
  logger: Logger;
}

export interface Stack {
  api: ApiHost;
  /** The gateway agents connect to (the first replica). */
  gateway: GatewayHost;
  /** Every gateway replica (one unless `gatewayReplicas` > 1). */
  gateways: GatewayHost[];
  worker: WorkerHost;
  apiUrl: string;
  gatewayUrl: string;
  gatewayWsUrl: string;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'production',
    DATABASE_URL: options.databaseUrl,
    DATABASE_SCHEMA: options.databaseSchema ?? 'public',
    REDIS_URL: options.redisUrl,
    // Without Redis the demo keeps gateway results in memory on purpose; a production gateway refuses
    // that unless it is chosen by name.
    ...(options.redisUrl ? {} : { GATEWAY_RESULT_STORE: 'memory' }),
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(options.gatewayPort),
    GATEWAY_SERVICE_TOKEN: options.serviceToken,
    SECRETS_KEK_ID: options.kekId,
    SECRETS_KEK_BASE64: options.kekBase64,
    API_HOST: '127.0.0.1',
    API_PORT: String(options.apiPort),
    BULLMQ_PREFIX: options.bullPrefix,
    ...options.env,
  };
  const logger = options.logger;
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const fn of closers.splice(0).reverse())
      await fn().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'shutdown step failed'));
  };
  try {
    const replicas = options.gatewayReplicas ?? 1;
    if (replicas > 1 && !options.redisUrl) throw new Error('several gateway replicas need REDIS_URL (they share Redis)');
    const gateways: GatewayHost[] = [];
    for (let i = 0; i < replicas; i++) {
      const clusterEnv =
        replicas > 1
          ? {
              GATEWAY_CLUSTER: 'redis',
              GATEWAY_REPLICA_ID: `demo-gateway-${i + 1}`,
              GATEWAY_CLUSTER_KEY_PREFIX: `${options.bullPrefix ?? 'vespid-demo'}:cluster:`,
              ...(i > 0 ? { GATEWAY_PORT: '0' } : {}),
            }
          : {};
      const g = await startGatewayHost({ ...env, ...clusterEnv }, { logger });
      closers.push(() => g.close({ timeoutMs: 5000 }));
      gateways.push(g);
    }
    const gateway = gateways[0]!;
    // Agents reach the first replica; the worker dispatches through the last one.
    Object.assign(env, { GATEWAY_HTTP_URL: gateways[gateways.length - 1]!.url, GATEWAY_WS_URL: gateway.wsUrl });

    const worker = await startWorkerHost({ env, logger, ...(options.bullPrefix ? { bullPrefix: options.bullPrefix } : {}) });
    closers.push(() => worker.close({ timeoutMs: 5000 }));

    let overrides = {};
    if (!options.redisUrl) {
      const controlBus = inProcessControlBus({ logger });
      // The same (exhaustive) handler the Redis subscriber of every gateway replica uses.
      controlBus.subscribe((e) => {
        for (const g of gateways) applyParsedControlEvent(g.gateway, e, logger);
      });
      overrides = { controlBus, runQueue: { enqueue: (job: { runId: string; organizationId: string }) => worker.runQueue.enqueue(job) } };
    }
    const api = await startApiHost(env, { logger, ...overrides });
    closers.push(() => api.close({ timeoutMs: 5000 }));
    return { api, gateway, gateways, worker, apiUrl: api.url, gatewayUrl: gateway.url, gatewayWsUrl: gateway.wsUrl, close };
  } catch (err) {
    await close();
    throw err;
  }
}
