import type { Selector } from '@vespid/protocol';
import type { AgentPresence } from '../cluster/cluster-types.js';
import type { SelectionStrategy } from './strategy.js';
import type { Registry } from '../core/registry.js';
import type { Session } from '../core/session.js';

/**
 * The routing-relevant part of a dispatch request.
 * @example
 * ```ts
 * gateway.explain({ organizationId: 'org1', kind: 'connector.action', payload: { connectorId: 'http' } } satisfies RoutingRequest);
 * ```
 */
export interface RoutingRequest {
  organizationId: string;
  kind: string;
  payload?: unknown;
  selector?: Selector | undefined;
}

/**
 * Why a request would (not) run: the answer of `explain()` and the body of `NO_AGENT_AVAILABLE`.
 * @example
 * ```ts
 * const why: Explanation = gateway.explain({ organizationId: 'org1', kind: 'agent.execute' });
 * if (!why.selected) log.warn(why.excluded, why.message);
 * ```
 */
export interface Explanation {
  organizationId: string;
  kind: string;
  /** `payload.connectorId` for `connector.action`. */
  connectorId?: string;
  selector?: Selector;
  /** Ready agents of the organization. */
  connected: number;
  /** How many agents each filter excluded, each agent counted once at the first filter it failed. */
  /**
   * `paused` is present only when an agent was paused: the `details` of `NO_AGENT_AVAILABLE` keep their
   * v1 shape for clients that parse it strictly.
   */
  excluded: { kind: number; connector: number; selector: number; capacity: number; paused?: number };
  /** Agents that passed every filter. */
  eligible: number;
  /** The agent the strategy would pick now, or null. */
  selected: { agentId: string; sessionId: string; name: string; inFlight: number; maxInFlight: number } | null;
  /** One human line, e.g. `no agent available for org o1: 3 connected; excluded by kind 1, …`. */
  message: string;
}

export const CONNECTOR_KIND = 'connector.action';

/** `payload.connectorId` of a `connector.action` request; other kinds are not routed by connector. */
export function connectorIdOf(kind: string, payload: unknown): string | undefined {
  if (kind !== CONNECTOR_KIND || !payload || typeof payload !== 'object') return undefined;
  const id = (payload as { connectorId?: unknown }).connectorId;
  return typeof id === 'string' ? id : undefined;
}

export function selectorTag(selector: Selector | undefined): string | undefined {
  if (!selector) return undefined;
  if ('tag' in selector) return selector.tag;
  if ('group' in selector) return `group:${selector.group}`;
  return undefined;
}

export function selectorAgent(selector: Selector | undefined): string | undefined {
  return selector && 'agentId' in selector ? selector.agentId : undefined;
}

/** What a request asks of an agent, derived once per selection. */
export interface Target {
  organizationId: string;
  kind: string;
  connectorId: string | undefined;
  agentId: string | undefined;
  /** Control-plane tag the agent must carry (`group:x` for a group selector). */
  tag: string | undefined;
}

export function targetOf(req: RoutingRequest): Target {
  return {
    organizationId: req.organizationId,
    kind: req.kind,
    connectorId: connectorIdOf(req.kind, req.payload),
    agentId: selectorAgent(req.selector),
    tag: selectorTag(req.selector),
  };
}

/** The filter that excludes an agent, in the order `explain()` reports them. */
export type Exclusion = 'paused' | 'kind' | 'connector' | 'selector' | 'capacity';

/**
 * The eligibility filter: why a ready session of the target's organization cannot take the request,
 * or null when it can. The Lua reserve script (redis/cluster-scripts.ts) applies the same rules to the
 * published presence; `test/eligibility-cases.ts` runs one table of cases against both.
 */
export function exclusionOf(s: Session, t: Target): Exclusion | null {
  // Paused first: an operator's cordon is the reason, whatever else the agent could run.
  if (s.paused) return 'paused';
  if (!s.kinds.has(t.kind)) return 'kind';
  if (t.connectorId !== undefined && s.connectors !== null && !s.connectors.has(t.connectorId)) return 'connector';
  if ((t.agentId !== undefined && s.agentId !== t.agentId) || (t.tag !== undefined && !s.tags.has(t.tag))) return 'selector';
  if (s.inFlight >= s.maxInFlight) return 'capacity';
  return null;
}

/**
 * Eligible sessions in LRU order, lazily. Starts from the narrowest index (the agent itself, the tag
 * pool or the kind pool of the org) so a dispatch never walks agents of other orgs or kinds. A draining
 * session is in no pool (see {@link markDraining}).
 */
export function* eligibleSessions(registry: Registry, req: RoutingRequest): Generator<Session, void, undefined> {
  const t = targetOf(req);
  const org = t.organizationId;
  let pool: Iterable<Session>;
  if (t.agentId !== undefined) {
    const s = registry.currentFor(t.agentId);
    pool = s && s.organizationId === org ? [s] : [];
  } else if (t.tag !== undefined) pool = registry.tagPool(org, t.tag);
  else pool = registry.kindPool(org, t.kind);
  for (const s of pool) if (s.state === 'ready' && exclusionOf(s, t) === null) yield s;
}

/**
 * The agent refused a task with AGENT_SHUTDOWN: it drains. It leaves every routing pool here and is
 * never published again (see {@link presenceOf}), so no replica selects it while its load falls.
 */
export function markDraining(registry: Registry, session: Session): void {
  session.draining = true;
  registry.unroute(session);
}

/**
 * What cluster mode publishes of a session so that the reserve script can select it, or null when it
 * must not be selectable: not ready, paused (cordoned) or draining. Capacity is not part of it: the
 * script counts in-flight reservations itself.
 */
export function presenceOf(s: Session): AgentPresence | null {
  if (s.state !== 'ready' || s.paused || s.draining) return null;
  return {
    agentId: s.agentId,
    organizationId: s.organizationId,
    sessionId: s.sessionId,
    maxInFlight: s.maxInFlight,
    kinds: [...s.kinds],
    connectors: s.connectors ? [...s.connectors] : null,
    tags: [...s.tags],
  };
}

/** Runs the strategy over the eligible sessions. */
export function selectSession(registry: Registry, strategy: SelectionStrategy, req: RoutingRequest): Session | undefined {
  return strategy.select(eligibleSessions(registry, req)) as Session | undefined;
}

/**
 * Explains routing for a request by walking the org's agents through each filter. Linear in the
 * org's agents: used for dry runs and for the error message after selection failed, not per dispatch.
 */
export function explainRouting(registry: Registry, strategy: SelectionStrategy, req: RoutingRequest): Explanation {
  const t = targetOf(req);
  const { connectorId, agentId, tag } = t;
  const excluded = { kind: 0, connector: 0, selector: 0, capacity: 0 };
  let paused = 0;
  let connected = 0;
  let eligible = 0;
  for (const s of registry.orgPool(req.organizationId)) {
    if (s.state !== 'ready') continue;
    connected++;
    const why = exclusionOf(s, t);
    if (why === null) eligible++;
    else if (why === 'paused') paused++;
    else excluded[why]++;
  }
  const pick = eligible > 0 ? selectSession(registry, strategy, req) : undefined;
  const what = [
    `kind ${req.kind}`,
    connectorId !== undefined ? `connector ${connectorId}` : '',
    agentId !== undefined ? `agentId ${agentId}` : '',
    tag !== undefined ? `tag ${tag}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const message = pick
    ? `would run on agent ${pick.agentId} (${eligible} of ${connected} connected agents eligible for ${what})`
    : `no agent available for org ${req.organizationId} (${what}): ${connected} connected; excluded by kind ${excluded.kind}, connector ${excluded.connector}, selector ${excluded.selector}, capacity ${excluded.capacity}${paused > 0 ? `, paused ${paused}` : ''}`;
  return {
    organizationId: req.organizationId,
    kind: req.kind,
    ...(connectorId !== undefined ? { connectorId } : {}),
    ...(req.selector ? { selector: req.selector } : {}),
    connected,
    excluded: paused > 0 ? { ...excluded, paused } : excluded,
    eligible,
    selected: pick
      ? { agentId: pick.agentId, sessionId: pick.sessionId, name: pick.name, inFlight: pick.inFlight, maxInFlight: pick.maxInFlight }
      : null,
    message,
  };
}
