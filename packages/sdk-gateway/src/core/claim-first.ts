import type { DispatchRequest, Logger, StoredResult } from '@vespid/protocol';
import { GatewayError } from '../errors.js';
import type { DispatchRecord, ResultStore, StoreClaim } from '../results/result-store.js';
import { selectSession } from '../selection/candidates.js';
import type { SelectionStrategy } from '../selection/strategy.js';
import { type DispatchOutcome, agentIdentity } from './dispatch-outcome.js';
import { errText } from './err-text.js';
import type { InFlight } from './in-flight.js';
import type { Registry } from './registry.js';
import type { Session } from './session.js';

/** What the claim fast path needs of the dispatcher. */
export interface ClaimContext {
  registry: Registry;
  store: ResultStore;
  selection: () => SelectionStrategy;
  logger: Logger;
  isClosing: () => boolean;
  capacity(organizationId: string): void;
  fromStore(
    entry: InFlight,
    req: DispatchRequest,
    result: StoredResult | null,
    dispatch: DispatchRecord | null,
  ): Promise<DispatchOutcome | null>;
  sendTo(entry: InFlight, req: DispatchRequest, session: Session): number;
}

/**
 * Single-replica fast path for stores with `claimDispatch`: select locally first, then one store
 * call looks up the result, checks for a live record and records this dispatch atomically (one
 * round trip before sending instead of two). Null = use the lookup path: no agent right now (the
 * store may still hold a result), or the chosen agent went away during the call (record released).
 */
export async function claimFirst(
  ctx: ClaimContext,
  entry: InFlight,
  req: DispatchRequest,
  claim: (record: DispatchRecord) => Promise<StoreClaim>,
): Promise<DispatchOutcome | null> {
  const { registry, logger } = ctx;
  const selected = entry.trace?.select();
  const session = selectSession(registry, ctx.selection(), req);
  selected?.(session?.agentId ?? null);
  if (!session) return null;
  const record: DispatchRecord = {
    requestId: req.requestId,
    organizationId: req.organizationId,
    agentId: session.agentId,
    deadline: entry.startedAt + req.timeoutMs,
  };
  // Hold the agent's slot across the store call so concurrent dispatches see its real load.
  session.reserveSlot();
  let claimed: StoreClaim;
  try {
    claimed = await claim(record);
  } finally {
    session.releaseSlot();
  }
  // The slot held across the call is free again: requests queued meanwhile come first (FIFO).
  ctx.capacity(req.organizationId);
  if (!claimed.claimed) return ctx.fromStore(entry, req, claimed.result, claimed.dispatch);
  // Recording an expired deadline releases the claim, so the lookup path or a retry can dispatch.
  const release = () =>
    ctx.store
      .recordDispatch({ ...record, deadline: 0 })
      .catch((err: unknown) => logger.warn({ requestId: req.requestId, err: errText(err) }, 'could not release dispatch record'));
  if (ctx.isClosing()) {
    await release();
    throw new GatewayError('GATEWAY_SHUTDOWN', 'gateway is shutting down');
  }
  if (registry.currentFor(session.agentId) !== session || session.state !== 'ready' || session.inFlight >= session.maxInFlight) {
    await release();
    return null;
  }
  try {
    ctx.sendTo(entry, req, session);
  } catch (err) {
    await release();
    throw err;
  }
  return { kind: 'dispatched', ...agentIdentity(session.agentId, session) };
}
