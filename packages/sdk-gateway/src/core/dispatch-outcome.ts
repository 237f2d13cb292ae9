import { LIMITS, type StoredResult } from '@vespid/protocol';
import type { Explanation } from '../selection/candidates.js';
import type { Session } from './session.js';

/** A request was queued: its 1-based position in the org's queue and why no agent took it. */
export interface QueuedOutcome {
  kind: 'queued';
  position: number;
  explanation: Explanation;
}

/** What `start()` did with a request. */
export type DispatchOutcome =
  | { kind: 'dispatched'; agentId: string; agentName?: string }
  | { kind: 'cached'; result: StoredResult }
  | { kind: 'in_flight'; agentId: string | null; agentName?: string }
  | QueuedOutcome;

/** The chosen agent's identity for answers and results; the name is known only where its session is. */
export function agentIdentity(agentId: string, session: Session | null | undefined): { agentId: string; agentName?: string } {
  return session ? { agentId, agentName: session.name.slice(0, LIMITS.nameLength) } : { agentId };
}
