/**
 * Live session data for the agents list: what the gateway knows right now (in-flight count, the
 * capabilities reported in `hello`, connection time). Status comes from the live session first (an
 * agent that stopped cleanly is offline at once, not after the stale window) and from `last_seen_at`
 * second; a gateway that is down, slow or too old to have the route only means "no live data" —
 * never an error for the page.
 */
import { type Logger, LiveSessionsResponseSchema, ROUTES, noopLogger } from '@vespid/protocol';
import { Agent, request } from 'undici';
import { resolveApiConfig } from './config.js';
import type { CurrentJob, LiveSession, LiveStatus } from './web/lib/live-session.js';

/**
 * The gateway's internal route listing the sessions of one organization (service token).
 *
 * @example
 * ```ts
 * const url = `${gatewayHttpUrl}${LIVE_SESSIONS_ROUTE}?organizationId=${orgId}`;
 * ```
 */
export const LIVE_SESSIONS_ROUTE = ROUTES.sessions;

// The gateway's answer is the protocol's `LiveSessionsResponseSchema`; what the api makes of it is the
// page's `LiveSession` (one definition, imported by the /agents page too).
export type { CurrentJob, LiveSession, LiveStatus };

/** Splits a worker request id (`runId:nodeId:attempt`); other ids give nulls. */
export function runOfRequest(requestId: string): { runId: string | null; nodeId: string | null; attempt: number | null } {
  const m = /^([0-9a-f-]{36}):(.+):(\d+)$/i.exec(requestId);
  return m ? { runId: m[1]!.toLowerCase(), nodeId: m[2]!, attempt: Number(m[3]) } : { runId: null, nodeId: null, attempt: null };
}

/**
 * Where live data comes from. `list` resolves `undefined` when there is no live data (unreachable,
 * 404, bad answer, timeout); it never rejects.
 *
 * @example
 * ```ts
 * const sessions = await source.list(orgId);
 * const live = sessions?.get(agentId) ?? null;
 * ```
 */
export interface LiveSessionSource {
  /**
   * Whether the gateway behind this source holds every session of an organization, so that "no
   * session" means "not connected". False in cluster mode, where a replica lists only its own.
   */
  readonly complete?: boolean;
  list(organizationId: string, options?: { signal?: AbortSignal }): Promise<Map<string, LiveSession> | undefined>;
  close(): Promise<void>;
}

/**
 * Options of {@link gatewayLiveSessions}.
 *
 * @example
 * ```ts
 * const options: GatewayLiveSessionsOptions = { url: 'http://gw:3002', serviceToken, timeoutMs: 1000 };
 * ```
 */
export interface GatewayLiveSessionsOptions {
  /** Gateway base URL (`GATEWAY_HTTP_URL`). */
  url: string;
  /** `GATEWAY_SERVICE_TOKEN`; sent as `Authorization: Bearer`, never logged. */
  serviceToken: string;
  /** Per-call budget. @default 1500 */
  timeoutMs?: number;
  /** See {@link LiveSessionSource.complete}. @default true (a single gateway) */
  complete?: boolean;
  logger?: Logger;
}

const iso = (v: string | number | undefined): string | null => {
  if (v === undefined) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};

/**
 * Reads live sessions from the gateway's `GET /internal/v1/sessions?organizationId=` with a keep-alive
 * pool. Concurrent calls for the same org share one request (many open pages poll the same list).
 *
 * @example
 * ```ts
 * const live = gatewayLiveSessions({ url: 'http://gw:3002', serviceToken, timeoutMs: 1500 });
 * const sessions = await live.list(orgId); // Map<agentId, LiveSession> | undefined
 * await live.close();
 * ```
 */
export function gatewayLiveSessions(options: GatewayLiveSessionsOptions): LiveSessionSource {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 1500;
  const logger = options.logger ?? noopLogger;
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  const pending = new Map<string, Promise<Map<string, LiveSession> | undefined>>();
  // Warn once per kind of failure, not on every poll of every page.
  let lastProblem: string | undefined;
  const problem = (kind: string, fields: Record<string, unknown>) => {
    if (lastProblem !== kind) logger.warn({ ...fields, gateway: base }, `no live session data: ${kind}`);
    lastProblem = kind;
    return undefined;
  };

  const fetchOnce = async (organizationId: string, signal?: AbortSignal): Promise<Map<string, LiveSession> | undefined> => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    try {
      const res = await request(`${base}${LIVE_SESSIONS_ROUTE}?organizationId=${encodeURIComponent(organizationId)}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${options.serviceToken}`, accept: 'application/json' },
        dispatcher,
        signal: AbortSignal.any(signals),
      });
      const text = await res.body.text();
      if (res.statusCode === 404) return problem('route not found (gateway without /internal/v1/sessions)', { status: 404 });
      if (res.statusCode !== 200) return problem(`gateway answered ${res.statusCode}`, { status: res.statusCode });
      const parsed = LiveSessionsResponseSchema.safeParse(JSON.parse(text));
      if (!parsed.success) return problem('unexpected response shape', {});
      lastProblem = undefined;
      const map = new Map<string, LiveSession>();
      for (const s of parsed.data.sessions) {
        map.set(s.agentId, {
          sessionId: s.sessionId,
          inFlight: s.inFlight,
          maxInFlight: s.maxInFlight,
          kinds: s.kinds,
          connectors: s.connectors,
          reportedTags: s.reportedTags,
          connectedAt: iso(s.connectedAt),
          lastSeenAt: iso(s.lastSeenAt),
          // Fields a newer gateway adds (a gateway without them leaves them out here too).
          ...(s.agentVersion !== undefined ? { agentVersion: s.agentVersion || null } : {}),
          ...(s.paused !== undefined ? { paused: s.paused } : {}),
          ...(s.remoteAddress !== undefined ? { remoteAddress: s.remoteAddress ?? null } : {}),
          ...(s.requests
            ? {
                requests: s.requests.map((r) => ({
                  requestId: r.requestId,
                  kind: r.kind,
                  startedAt: iso(r.startedAt),
                  received: r.received,
                  ...runOfRequest(r.requestId),
                })),
              }
            : {}),
        });
      }
      return map;
    } catch (err) {
      return problem('gateway unreachable', { err: { message: (err as Error).message, code: (err as { code?: string }).code } });
    }
  };

  return {
    complete: options.complete ?? true,
    list(organizationId, opts = {}) {
      let p = pending.get(organizationId);
      if (!p) {
        p = fetchOnce(organizationId, opts.signal).finally(() => pending.delete(organizationId));
        pending.set(organizationId, p);
      }
      return p;
    },
    close: () => dispatcher.close(),
  };
}

/**
 * Builds the live source from `GATEWAY_HTTP_URL` (runbook default `http://localhost:3002`) and
 * `GATEWAY_SERVICE_TOKEN`; without a service token there is no live data (returns `undefined`).
 * With `GATEWAY_CLUSTER=redis` the URL reaches one replica among several, so a missing session does
 * not make an agent offline (its last-seen time decides).
 *
 * @example
 * ```ts
 * const live = liveSessionsFromEnv(process.env, { logger });
 * ```
 */
export function liveSessionsFromEnv(
  env: Record<string, string | undefined>,
  options: { logger?: Logger; timeoutMs?: number } = {},
): LiveSessionSource | undefined {
  const serviceToken = env.GATEWAY_SERVICE_TOKEN?.trim();
  if (!serviceToken) return undefined;
  // Same validation and default as the api config (a bad URL fails at startup, naming the field).
  const { gatewayHttpUrl } = resolveApiConfig({ gatewayHttpUrl: env.GATEWAY_HTTP_URL?.trim() || undefined });
  const complete = env.GATEWAY_CLUSTER?.trim().toLowerCase() !== 'redis';
  return gatewayLiveSessions({ url: gatewayHttpUrl, serviceToken, complete, ...options });
}

/**
 * Adds `live` to each agent view: the session object when the gateway reports one, `null` when the
 * gateway answered without this agent (not connected there). Without live data agents get no `live`.
 * Status follows the live data when there is some: a session makes the agent `online`, no session
 * makes it `offline` when the source is `complete` (else the `last_seen_at` status stays); `revoked`
 * always wins.
 *
 * @example
 * ```ts
 * const { agents, live } = mergeLive(views, await source?.list(orgId), Boolean(source), { complete: source?.complete });
 * ```
 */
export function mergeLive<A extends { id: string; status: string }>(
  agents: A[],
  sessions: Map<string, LiveSession> | undefined,
  configured: boolean,
  options: { complete?: boolean | undefined } = {},
): { agents: Array<A & { live?: LiveSession | null }>; live: LiveStatus } {
  if (!sessions) return { agents, live: configured ? 'unavailable' : 'not_configured' };
  const complete = options.complete ?? true;
  return {
    agents: agents.map((a) => {
      // A revoked agent's session is being closed; never show it as carrying work.
      if (a.status === 'revoked') return { ...a, live: null };
      const live = sessions.get(a.id) ?? null;
      // last_seen_at lags by up to the stale window: an agent that closed cleanly a second ago is gone now.
      const status = live ? 'online' : complete ? 'offline' : a.status;
      return { ...a, status, live };
    }),
    live: 'gateway',
  };
}
