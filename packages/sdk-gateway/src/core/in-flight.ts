import type { DispatchRequest, StoredResult } from '@vespid/protocol';
import type { RequestTrace } from '../tracing.js';
import type { DispatchOutcome } from './dispatch-outcome.js';
import type { Session } from './session.js';

/** State of one request this gateway is responsible for. Removed from the map in `settle`. */
export interface InFlight {
  requestId: string;
  organizationId: string;
  kind: string;
  /** `queued`: waiting in the queue for an eligible agent (`queueTimeoutMs`); no agent yet. */
  status: 'reserving' | 'queued' | 'sent' | 'storing';
  agentId: string | null;
  /** The session it was sent to (null when recovered from a dispatch record after a restart). */
  session: Session | null;
  /** The agent confirmed it with `execute_received` (it will resend a result after a reconnect). */
  received: boolean;
  startedAt: number;
  timer: NodeJS.Timeout | null;
  /** Cluster mode: the replica holding the agent's socket (null: not routed by this replica). */
  replicaId: string | null;
  /** Cluster mode: a result another replica stored while this one was still routing. */
  early: StoredResult | null;
  /** The agent's result, already given to callers while it is being stored (see `RequestTable.storeAndSettle`). */
  answer: StoredResult | null;
  /** Cluster mode: the request, kept while in flight so it can be redelivered if the agent moves. */
  req: DispatchRequest | null;
  /** Cluster mode: the dispatch record this entry was created from (a request routed by another replica). */
  record: { replicaId?: string | undefined; deadline: number } | null;
  /** A `dispatchAsync` caller relies on the stored result: an aborted synchronous caller does not cancel it. */
  detached?: boolean;
  /** The first `start()` of the request while it selects and sends: a concurrent repeat waits for it. */
  placing?: Promise<DispatchOutcome> | undefined;
  /** Its spans, when the gateway traces (absent: tracing off). */
  trace?: RequestTrace | undefined;
  waiters: Array<{ resolve: (r: StoredResult) => void; reject: (e: unknown) => void }>;
}
