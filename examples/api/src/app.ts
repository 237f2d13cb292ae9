/**
 * `buildApiApp(deps)`: the control-plane Fastify app, with every seam injected (pool, logger,
 * control bus, run queue, KEK) so tests and the single-process demo can compose it freely.
 */
import rateLimit from '@fastify/rate-limit';
import type { Kek, Pool } from '@vespid/example-db';
import { type Logger, noopLogger } from '@vespid/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type ApiConfig, type ApiConfigInput, resolveApiConfig } from './config.js';
import type { AppContext } from './context.js';
import type { ControlBus } from './control-bus.js';
import { errorHandler, noStore } from './http.js';
import type { LiveSessionSource } from './live-sessions.js';
import { agentApprovalRoutes } from './routes/agent-approval.js';
import { agentFleetRoutes } from './routes/agent-fleet.js';
import { agentSelfRoutes } from './routes/agent-self.js';
import { tokenRotationRoutes } from './routes/token-rotation.js';
import { agentRoutes } from './routes/agents.js';
import { auditRoutes } from './routes/audit.js';
import { invitationRoutes } from './routes/invitations.js';
import { memberRoutes } from './routes/members.js';
import { runRoutes } from './routes/runs.js';
import { secretRoutes } from './routes/secrets.js';
import { workflowRoutes } from './routes/workflows.js';
import type { RunQueue } from './run-queue.js';
import { agentsPageRoutes } from './web/page-routes.js';

/** Dependencies of {@link buildApiApp}. */
export interface ApiDeps {
  /** Pool on a migrated schema (see `migrate` of @vespid/example-db). */
  pool: Pool;
  /** pino-compatible logger; never receives a token or secret value. @default noopLogger */
  logger?: Logger;
  /** Where revocations and tag edits go (Redis `vespid:control` or in-process). */
  controlBus: ControlBus;
  /** Where new runs go (BullMQ `workflow-runs` or in-process). */
  runQueue: RunQueue;
  /** KEK for new connector secrets (`kekFromEnv(process.env)`). */
  kek: Kek;
  /** Options or an already resolved config. */
  config?: ApiConfigInput | ApiConfig;
  /** Optional Redis for shared rate-limit counters across api replicas; in-memory otherwise. */
  rateLimitRedis?: Redis;
  /** Key namespace of the Redis rate-limit counters (`redisNames(prefix).rateLimitNamespace`). @default 'vespid-api-rl:' */
  rateLimitNamespace?: string;
  /** Live session data (in-flight now) merged into the agents list; see `liveSessionsFromEnv`. */
  liveSessions?: LiveSessionSource;
}

/**
 * Builds the api app (not listening). Call `app.listen()` or use `app.inject()` in tests.
 *
 * @example
 * ```ts
 * const app = buildApiApp({ pool, kek, controlBus: inProcessControlBus(), runQueue: inProcessRunQueue(run) });
 * await app.listen({ host: '127.0.0.1', port: 0 });
 * ```
 */
export function buildApiApp(deps: ApiDeps): FastifyInstance {
  const config = resolveApiConfig(deps.config as ApiConfigInput);
  const logger = deps.logger ?? noopLogger;
  const ctx: AppContext = {
    pool: deps.pool,
    logger,
    config,
    controlBus: deps.controlBus,
    runQueue: deps.runQueue,
    kek: deps.kek,
    ...(deps.liveSessions ? { liveSessions: deps.liveSessions } : {}),
  };
  const app = Fastify({ logger: false, trustProxy: config.trustProxy, bodyLimit: 1024 * 1024 });

  // Friendlier JSON: an empty body with a JSON content type is "no body", not a 400.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (!text.trim()) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });

  app.setErrorHandler(errorHandler(logger));
  // Root-level, so it also covers 404s, 429s and errors: no response of this host is cacheable by default.
  app.addHook('onSend', noStore);
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ code: 'NOT_FOUND', message: `route ${request.method} ${request.url.split('?')[0]} not found`, retryable: false }),
  );
  app.addHook('onResponse', async (request, reply) => {
    // Path only: query strings and bodies are never logged.
    logger.info(
      {
        reqId: request.id,
        method: request.method,
        path: request.url.split('?')[0],
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  // Per-address limits on everything (the authenticated routes) and a tighter one on the pairing exchange.
  app.register(rateLimit, {
    global: true,
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowMs,
    ...(deps.rateLimitRedis
      ? { redis: deps.rateLimitRedis, nameSpace: deps.rateLimitNamespace ?? 'vespid-api-rl:', skipOnError: true }
      : {}),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `rate limit exceeded; retry in ${context.after}`,
    }),
  });

  // Registered after the rate limiter so its onRoute hook sees every route.
  app.register(async (instance) => {
    instance.get('/health', { config: { rateLimit: false } }, async () => ({ ok: true }));
    memberRoutes(instance, ctx);
    invitationRoutes(instance, ctx);
    agentRoutes(instance, ctx);
    agentFleetRoutes(instance, ctx);
    agentApprovalRoutes(instance, ctx);
    auditRoutes(instance, ctx);
    agentSelfRoutes(instance, ctx);
    tokenRotationRoutes(instance, ctx);
    secretRoutes(instance, ctx);
    workflowRoutes(instance, ctx);
    runRoutes(instance, ctx);
    agentsPageRoutes(instance, { publicUrl: config.publicUrl });
  });
  return app;
}
