/**
 * One table of eligibility cases for the two places that decide whether an agent may take a request:
 * the TypeScript filter (selection/candidates.ts, single replica) and the Lua reserve script
 * (redis/cluster-scripts.ts, cluster mode). selection/eligibility.test.ts runs it against the first,
 * redis/eligibility.int.test.ts against the second on real Redis, so the two cannot drift.
 */
import type { AgentConnection } from '../src/core/connection.js';
import { Registry } from '../src/core/registry.js';
import { Session } from '../src/core/session.js';
import { type Exclusion, type RoutingRequest, markDraining } from '../src/selection/candidates.js';

export const ORG = 'org-elig';
export const AGENT = 'a-elig';

/** The one agent of a case, as the gateway knows it after its hello (and any pause, drain or load). */
export interface AgentSpec {
  organizationId?: string;
  kinds: string[];
  /** null (default): the agent runs any connector. */
  connectors?: string[] | null;
  tags?: string[];
  /** @default 2 */
  maxInFlight?: number;
  /** Requests it already runs. */
  inFlight?: number;
  paused?: boolean;
  /** It refused a task with AGENT_SHUTDOWN. */
  draining?: boolean;
}

export interface EligibilityCase {
  name: string;
  agent: AgentSpec;
  request: RoutingRequest;
  eligible: boolean;
  /**
   * Why it is not: the filter `explain()` counts it under, or `unseen` when the agent is not counted as
   * a connected agent of the request's organization at all (another org, draining).
   */
  because?: Exclusion | 'unseen';
}

const http = { kind: 'connector.action', payload: { connectorId: 'http' } };
const connector = ['connector.action'];

export const ELIGIBILITY_CASES: EligibilityCase[] = [
  {
    name: 'kind and connector match',
    agent: { kinds: connector, connectors: ['http'] },
    request: { organizationId: ORG, ...http },
    eligible: true,
  },
  { name: 'other kind', agent: { kinds: ['agent.execute'] }, request: { organizationId: ORG, ...http }, eligible: false, because: 'kind' },
  {
    name: 'agent runs any connector',
    agent: { kinds: connector, connectors: null },
    request: { organizationId: ORG, ...http },
    eligible: true,
  },
  {
    name: 'connector not declared',
    agent: { kinds: connector, connectors: ['postgres'] },
    request: { organizationId: ORG, ...http },
    eligible: false,
    because: 'connector',
  },
  {
    name: 'connector ignored for other kinds',
    agent: { kinds: ['agent.execute'], connectors: ['postgres'] },
    request: { organizationId: ORG, kind: 'agent.execute', payload: { connectorId: 'http' } },
    eligible: true,
  },
  {
    name: 'tag selector, tag carried',
    agent: { kinds: connector, tags: ['east', 'gpu'] },
    request: { organizationId: ORG, ...http, selector: { tag: 'gpu' } },
    eligible: true,
  },
  {
    name: 'tag selector, tag missing',
    agent: { kinds: connector, tags: ['east'] },
    request: { organizationId: ORG, ...http, selector: { tag: 'gpu' } },
    eligible: false,
    because: 'selector',
  },
  {
    name: 'tag selector is not a prefix match',
    agent: { kinds: connector, tags: ['gpu-large'] },
    request: { organizationId: ORG, ...http, selector: { tag: 'gpu' } },
    eligible: false,
    because: 'selector',
  },
  {
    name: 'group selector, member',
    agent: { kinds: connector, tags: ['group:blue'] },
    request: { organizationId: ORG, ...http, selector: { group: 'blue' } },
    eligible: true,
  },
  {
    name: 'group selector, plain tag of the same name is not membership',
    agent: { kinds: connector, tags: ['blue'] },
    request: { organizationId: ORG, ...http, selector: { group: 'blue' } },
    eligible: false,
    because: 'selector',
  },
  {
    name: 'agentId selector, this agent',
    agent: { kinds: connector },
    request: { organizationId: ORG, ...http, selector: { agentId: AGENT } },
    eligible: true,
  },
  {
    name: 'agentId selector, another agent',
    agent: { kinds: connector },
    request: { organizationId: ORG, ...http, selector: { agentId: 'someone-else' } },
    eligible: false,
    because: 'selector',
  },
  {
    name: 'agentId selector still needs the kind',
    agent: { kinds: ['agent.execute'] },
    request: { organizationId: ORG, ...http, selector: { agentId: AGENT } },
    eligible: false,
    because: 'kind',
  },
  {
    name: 'agent of another organization',
    agent: { organizationId: 'org-other', kinds: connector },
    request: { organizationId: ORG, ...http },
    eligible: false,
    because: 'unseen',
  },
  {
    name: 'agentId selector naming an agent of another organization',
    agent: { organizationId: 'org-other', kinds: connector },
    request: { organizationId: ORG, ...http, selector: { agentId: AGENT } },
    eligible: false,
    because: 'unseen',
  },
  {
    name: 'paused',
    agent: { kinds: connector, paused: true },
    request: { organizationId: ORG, ...http },
    eligible: false,
    because: 'paused',
  },
  {
    name: 'paused, even when named',
    agent: { kinds: connector, paused: true },
    request: { organizationId: ORG, ...http, selector: { agentId: AGENT } },
    eligible: false,
    because: 'paused',
  },
  {
    name: 'draining',
    agent: { kinds: connector, draining: true },
    request: { organizationId: ORG, ...http },
    eligible: false,
    because: 'unseen',
  },
  {
    name: 'one slot left',
    agent: { kinds: connector, maxInFlight: 2, inFlight: 1 },
    request: { organizationId: ORG, ...http },
    eligible: true,
  },
  {
    name: 'at capacity',
    agent: { kinds: connector, maxInFlight: 2, inFlight: 2 },
    request: { organizationId: ORG, ...http },
    eligible: false,
    because: 'capacity',
  },
  {
    name: 'at capacity, even when named',
    agent: { kinds: connector, maxInFlight: 1, inFlight: 1 },
    request: { organizationId: ORG, ...http, selector: { agentId: AGENT } },
    eligible: false,
    because: 'capacity',
  },
];

const connection: AgentConnection = { remoteAddress: '127.0.0.1', send() {}, close() {}, terminate() {} };

/**
 * The case's agent as a ready session in a registry, reached the way the gateway reaches that state:
 * hello fields, pause, slots reserved through the session, drain through `markDraining`.
 */
export function agentOf(spec: AgentSpec): { registry: Registry; session: Session } {
  const registry = new Registry();
  const organizationId = spec.organizationId ?? ORG;
  const session = new Session(
    `s-${AGENT}`,
    connection,
    { agentId: AGENT, organizationId, tags: spec.tags ?? [], paused: spec.paused === true },
    Date.now(),
  );
  session.state = 'ready';
  session.kinds = new Set(spec.kinds);
  session.connectors = spec.connectors ? new Set(spec.connectors) : null;
  session.maxInFlight = spec.maxInFlight ?? 2;
  registry.add(session);
  for (let i = 0; i < (spec.inFlight ?? 0); i++) session.reserveSlot();
  if (spec.draining) markDraining(registry, session);
  return { registry, session };
}
