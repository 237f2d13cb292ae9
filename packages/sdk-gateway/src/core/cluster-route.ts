import { type DispatchRequest, type Logger, encodeMessage } from '@vespid/protocol';
import type { ForwardedExecute, GatewayCluster, ReserveRequest } from '../cluster/cluster-types.js';
import { GatewayError } from '../errors.js';
import type { ResultStore } from '../results/result-store.js';
import type { SelectionName } from '../selection/strategy.js';
import { type RoutingRequest, targetOf } from '../selection/candidates.js';
import type { Registry } from './registry.js';
import { errText } from './err-text.js';
import type { Session } from './session.js';

/** Reservations tried per dispatch: each failed one (agent just left, replica died) removes a stale entry. */
const MAX_ATTEMPTS = 5;

/** Where a clustered dispatch went. `session` is null when another replica holds the agent. */
export interface ClusterRoute {
  agentId: string;
  replicaId: string;
  session: Session | null;
  /** The forward was not acknowledged: the agent may or may not have it. */
  uncertain?: boolean;
}

export interface ClusterRouteDeps {
  cluster: GatewayCluster;
  registry: Registry;
  store: ResultStore;
  logger: Logger;
  strategy: SelectionName;
}

/** The `execute` frame of a request (the secret only ever goes to the agent, or over pub/sub to its replica). */
export function executeFrame(
  m: Pick<ForwardedExecute, 'requestId' | 'organizationId' | 'kind' | 'payload' | 'secret' | 'timeoutMs'>,
): string {
  return encodeMessage({
    type: 'execute',
    requestId: m.requestId,
    organizationId: m.organizationId,
    kind: m.kind,
    payload: m.payload,
    ...(m.secret !== undefined ? { secret: m.secret } : {}),
    timeoutMs: m.timeoutMs,
  });
}

/** What the reserve script is asked for a request: the same target the local filter derives. */
export function reserveRequestOf(req: RoutingRequest & { requestId: string }, strategy: SelectionName, deadline: number): ReserveRequest {
  const t = targetOf(req);
  return {
    requestId: req.requestId,
    organizationId: t.organizationId,
    kind: t.kind,
    connectorId: t.connectorId,
    tag: t.tag,
    agentId: t.agentId,
    strategy,
    deadline,
  };
}

/**
 * Selects cluster-wide (atomic reservation in the cluster), records the dispatch durably, then sends
 * to the local socket or forwards to the owner replica. The record comes first so that whichever
 * replica receives the agent's result (the agent may reconnect anywhere) can verify and store it.
 * A forward without an answer counts as sent: sending again could run the request twice.
 */
export async function routeInCluster(deps: ClusterRouteDeps, req: DispatchRequest): Promise<ClusterRoute> {
  const recorded: { slot: { requestId: string; agentId: string; organizationId: string } | null } = { slot: null };
  try {
    return await place(deps, req, recorded);
  } catch (err) {
    // Every attempt failed (no agent reached, or Redis failed mid-way, e.g. a master failing over). A
    // record left live for an agent that never got the request would make the caller's retry with the
    // same id wait for a resend that never comes, until the deadline: expire it, so the retry dispatches.
    if (recorded.slot)
      await deps.store
        .recordDispatch({ ...recorded.slot, deadline: 0, replicaId: deps.cluster.replicaId })
        .catch((e: unknown) => deps.logger.warn({ requestId: req.requestId, err: errText(e) }, 'could not release dispatch record'));
    throw err;
  }
}

async function place(
  deps: ClusterRouteDeps,
  req: DispatchRequest,
  recorded: { slot: { requestId: string; agentId: string; organizationId: string } | null },
): Promise<ClusterRoute> {
  const { cluster, registry, store, logger } = deps;
  const deadline = Date.now() + req.timeoutMs;
  const base = reserveRequestOf(req, deps.strategy, deadline);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const r = await cluster.reserve(base);
    if (!r.ok) {
      if (r.reason === 'quota')
        throw new GatewayError(
          'RATE_LIMITED',
          `organization ${req.organizationId} has ${r.quota ?? 'its maximum of'} requests in flight across the gateway cluster`,
          { httpStatus: 429 },
        );
      break;
    }
    const slot = { requestId: req.requestId, agentId: r.agentId, organizationId: req.organizationId };
    try {
      await store.recordDispatch({ ...slot, deadline, replicaId: cluster.replicaId });
      recorded.slot = slot;
    } catch (err) {
      await cluster.release(slot).catch(() => {});
      throw err;
    }
    if (r.replicaId === cluster.replicaId) {
      const s = registry.currentFor(r.agentId);
      if (s && s.state === 'ready' && s.organizationId === req.organizationId && s.send(executeFrame(req)))
        return { agentId: r.agentId, replicaId: r.replicaId, session: s };
      await cluster.release(slot);
      await cluster.unregister(r.agentId, r.sessionId, req.organizationId);
      continue;
    }
    const message: ForwardedExecute = {
      requestId: req.requestId,
      organizationId: req.organizationId,
      agentId: r.agentId,
      sessionId: r.sessionId,
      kind: req.kind,
      payload: req.payload,
      ...(req.secret !== undefined ? { secret: req.secret } : {}),
      timeoutMs: req.timeoutMs,
      origin: cluster.replicaId,
    };
    const outcome = await cluster.forward(r.replicaId, message).catch(() => 'unknown' as const);
    if (outcome === 'accepted') return { agentId: r.agentId, replicaId: r.replicaId, session: null };
    if (outcome === 'unknown') {
      logger.warn({ requestId: req.requestId, agentId: r.agentId, replicaId: r.replicaId }, 'forward not acknowledged: treated as sent');
      return { agentId: r.agentId, replicaId: r.replicaId, session: null, uncertain: true };
    }
    await cluster.release(slot);
    if (outcome === 'unreachable') await cluster.forget(r.agentId, r.replicaId, req.organizationId);
    logger.debug({ requestId: req.requestId, agentId: r.agentId, replicaId: r.replicaId, outcome }, 'forward failed: selecting again');
  }
  throw new GatewayError(
    'NO_AGENT_AVAILABLE',
    `no agent available for org ${req.organizationId} (kind ${req.kind}${base.connectorId ? `, connector ${base.connectorId}` : ''}${
      base.agentId ? `, agentId ${base.agentId}` : ''
    }${base.tag ? `, tag ${base.tag}` : ''}) on any gateway replica`,
  );
}
