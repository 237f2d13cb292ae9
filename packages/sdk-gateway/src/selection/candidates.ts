import type { Selector } from '@vespid/protocol';
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

const matchesConnector = (s: Session, connectorId: string | undefined) =>
  connectorId === undefined || s.connectors === null || s.connectors.has(connectorId);

/**
 * Eligible sessions in LRU order, lazily. Starts from the narrowest index (the agent itself, the tag
 * pool or the kind pool of the org) so a dispatch never walks agents of other orgs or kinds.
 */
export function* eligibleSessions(registry: Registry, req: RoutingRequest): Generator<Session, void, undefined> {
  const org = req.organizationId;
  const connectorId = connectorIdOf(req.kind, req.payload);
  const agentId = selectorAgent(req.selector);
  const tag = selectorTag(req.selector);
  let pool: Iterable<Session>;
  if (agentId !== undefined) {
    const s = registry.currentFor(agentId);
    pool = s && s.organizationId === org ? [s] : [];
  } else if (tag !== undefined) pool = registry.tagPool(org, tag);
  else pool = registry.kindPool(org, req.kind);
  for (const s of pool) {
    if (s.state !== 'ready' || s.paused || s.inFlight >= s.maxInFlight || !s.kinds.has(req.kind)) continue;
    if (tag !== undefined && !s.tags.has(tag)) continue;
    if (!matchesConnector(s, connectorId)) continue;
    yield s;
  }
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
  const connectorId = connectorIdOf(req.kind, req.payload);
  const agentId = selectorAgent(req.selector);
  const tag = selectorTag(req.selector);
  const excluded = { kind: 0, connector: 0, selector: 0, capacity: 0 };
  let paused = 0;
  let connected = 0;
  let eligible = 0;
  for (const s of registry.orgPool(req.organizationId)) {
    if (s.state !== 'ready') continue;
    connected++;
    // Paused first: an operator's cordon is the reason, whatever else the agent could run.
    if (s.paused) paused++;
    else if (!s.kinds.has(req.kind)) excluded.kind++;
    else if (!matchesConnector(s, connectorId)) excluded.connector++;
    else if ((agentId !== undefined && s.agentId !== agentId) || (tag !== undefined && !s.tags.has(tag))) excluded.selector++;
    else if (s.inFlight >= s.maxInFlight) excluded.capacity++;
    else eligible++;
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
