/**
 * The live part of an agent in the api's answers (`agent.live`, `currentJobs`), shared by the api's
 * routes and the /agents page so the shape is written once. The api derives it from the gateway's
 * `GET /internal/v1/sessions` (the protocol's `LiveSessionsResponseSchema`): times become ISO strings
 * and worker request ids are split into run, node and attempt. Types only: the page bundles no zod.
 */

/**
 * A request the agent is running now (`runId`/`nodeId`/`attempt` when a workflow run sent it).
 *
 * @example
 * ```ts
 * const job: CurrentJob = { requestId: 'r:n:0', kind: 'agent.execute', startedAt: null, received: true, runId: null, nodeId: null, attempt: null };
 * ```
 */
export interface CurrentJob {
  requestId: string;
  kind: string;
  startedAt: string | null;
  received: boolean;
  runId: string | null;
  nodeId: string | null;
  attempt: number | null;
}

/**
 * One live session as the agents list shows it (`agent.live`).
 *
 * @example
 * ```ts
 * if (agent.live) console.log(`${agent.live.inFlight}/${agent.live.maxInFlight}`);
 * ```
 */
export interface LiveSession {
  sessionId: string;
  inFlight: number;
  maxInFlight: number;
  kinds: string[];
  /** null when the agent declared no connector list. */
  connectors: string[] | null;
  reportedTags: string[];
  connectedAt: string | null;
  lastSeenAt: string | null;
  /** The version the agent sent in `hello` (null: gateway too old to say). */
  agentVersion?: string | null;
  /** Paused (cordoned) on the gateway. */
  paused?: boolean;
  /** The address the gateway saw the agent connect from. */
  remoteAddress?: string | null;
  /** Requests the agent is running now. */
  requests?: CurrentJob[];
}

/**
 * Where the live data of an agents list came from (top-level `live` of `GET …/agents`).
 *
 * @example
 * ```ts
 * if (list.live !== 'gateway') showNote('in-flight counts unavailable');
 * ```
 */
export type LiveStatus = 'gateway' | 'unavailable' | 'not_configured';
