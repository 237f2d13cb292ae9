import type { ExecuteResultMessage, Logger, StoredResult } from '@vespid/protocol';
import { encodeMessage } from '@vespid/protocol';
import type { GatewayCluster } from '../cluster/cluster-types.js';
import type { ResultStore } from '../results/result-store.js';
import { markDraining } from '../selection/candidates.js';
import type { ClusterDispatch } from './cluster-dispatch.js';
import { agentIdentity } from './dispatch-outcome.js';
import { errText } from './err-text.js';
import type { Registry } from './registry.js';
import type { RequestTable } from './request-table.js';
import type { Session } from './session.js';

interface Deps {
  table: RequestTable;
  registry: Registry;
  store: ResultStore;
  logger: Logger;
  isClosing: () => boolean;
  /** Cluster mode: forwarded results, results of requests routed elsewhere, presence withdrawal. */
  clustered: ClusterDispatch | null;
  cluster: GatewayCluster | undefined;
}

/**
 * What agents say about requests: `execute_received`, `execute_result` and their session closing. A
 * result is accepted only from the agent (and org) the request went to, whichever replica holds it.
 */
export class ResultIntake {
  constructor(private readonly deps: Deps) {}

  /** `execute_received` from `session`: from now on the agent owns the request and resends its result. */
  onReceived(session: Session, requestId: string): void {
    const entry = this.deps.table.inflight.get(requestId);
    if (entry && entry.session === session) entry.received = true;
  }

  /**
   * `session` closed. A request it never confirmed with `execute_received` will never be resent (the
   * agent may not even have read it: e.g. it was closing after a drain), so it fails at once with a
   * retryable AGENT_DISCONNECTED instead of holding the caller until its deadline.
   */
  onSessionClosed(session: Session): void {
    const { table, logger } = this.deps;
    // A gateway going away closes every session itself: its agents keep their tasks and resend to the next one.
    if (session.inFlight === 0 || this.deps.isClosing()) return;
    for (const entry of [...table.inflight.values()]) {
      if (entry.session !== session || entry.received || entry.status !== 'sent') continue;
      entry.status = 'storing';
      table.disarm(entry);
      logger.warn({ requestId: entry.requestId, agentId: entry.agentId }, 'agent disconnected before confirming the request');
      table
        .storeAndSettle(
          entry,
          {
            requestId: entry.requestId,
            organizationId: entry.organizationId,
            status: 'failed',
            error: {
              code: 'AGENT_DISCONNECTED',
              message: `agent ${session.agentId} disconnected before it confirmed the request`,
              retryable: true,
            },
            ...agentIdentity(session.agentId, session),
            completedAt: Date.now(),
          },
          null,
        )
        .catch((err: unknown) => logger.error({ requestId: entry.requestId, err: errText(err) }, 'disconnect handling failed'));
    }
  }

  /** An `execute_result` from `session`. Accepted only from the agent (and org) the request went to. */
  async onResult(session: Session, msg: ExecuteResultMessage): Promise<void> {
    const { table, store, logger, registry } = this.deps;
    const entry = table.inflight.get(msg.requestId);
    const log = { requestId: msg.requestId, agentId: session.agentId, organizationId: session.organizationId };
    if (msg.status === 'failed' && msg.error?.code === 'AGENT_SHUTDOWN' && registry.currentFor(session.agentId) === session) {
      // The agent is draining: it refuses new work while its in-flight count falls, which made
      // least-in-flight pick it again and again. Stop routing to this session (only its own routing),
      // and in cluster mode withdraw its presence so that no other replica selects it either.
      markDraining(registry, session);
      this.deps.cluster
        ?.unregister(session.agentId, session.sessionId, session.organizationId)
        .catch((err: unknown) => logger.warn({ ...log, err: errText(err) }, 'could not withdraw agent presence'));
      logger.info(log, 'agent is shutting down; no longer selected');
    }
    const stored: StoredResult = {
      requestId: msg.requestId,
      organizationId: session.organizationId,
      status: msg.status,
      ...(msg.output !== undefined ? { output: msg.output } : {}),
      ...(msg.error !== undefined ? { error: msg.error } : {}),
      // Who ran it and since when, for run views (queue time = assignedAt - dispatch time).
      ...agentIdentity(session.agentId, session),
      ...(entry && entry.status !== 'reserving' && entry.status !== 'queued' ? { assignedAt: entry.startedAt } : {}),
      completedAt: Date.now(),
    };
    if (entry && entry.status !== 'reserving') {
      if (entry.organizationId !== session.organizationId || entry.agentId !== session.agentId) {
        logger.warn({ ...log, expectedAgentId: entry.agentId }, 'result from an agent the request was not sent to: dropped');
        return;
      }
      // A result is also the request's receipt (an agent may send it without `execute_received`): if its
      // store fails and the session then closes, the agent still holds it and resends it, so the
      // request must wait for that resend rather than fail as unconfirmed.
      if (entry.session === session) entry.received = true;
      if (entry.status === 'storing') return; // a resend while the first copy is being stored
      entry.status = 'storing';
      await table.storeAndSettle(entry, stored, session);
      return;
    }
    const clustered = this.deps.clustered;
    // Cluster mode: a request another replica forwarded to this agent through this replica.
    if (clustered?.storeForwarded(session, stored)) return;
    // Not in flight here: a resend after a gateway restart, or a forgery. Check the durable record.
    const { result, dispatch } = await store.lookup(msg.requestId).catch(() => ({ result: null, dispatch: null }));
    if (result) {
      if (result.organizationId === session.organizationId && result.agentId === session.agentId) this.ack(session, msg.requestId);
      else logger.warn(log, 'result for a request of another agent: dropped');
      return;
    }
    if (!dispatch || dispatch.organizationId !== session.organizationId || dispatch.agentId !== session.agentId) {
      logger.warn(log, 'result for a request not dispatched to this agent: dropped');
      return;
    }
    try {
      await store.put(stored);
      this.ack(session, msg.requestId);
      if (clustered) clustered.storedForOther(stored, dispatch);
      else logger.info(log, 'result recovered after restart');
    } catch (err) {
      logger.error({ ...log, err: errText(err) }, 'could not store result; the agent will resend');
    }
  }

  private ack(session: Session, requestId: string): void {
    session.send(encodeMessage({ type: 'execute_ack', requestId }));
  }
}
