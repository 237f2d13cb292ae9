/**
 * A metrics sink. The gateway calls it on state changes; hosts map it to prom-client, OpenTelemetry or
 * anything else. Every method must be cheap and must not throw. No-op by default.
 *
 * @example
 * ```ts
 * const agents = new Gauge({ name: 'gateway_connected_agents', help: '…' });
 * const metrics: GatewayMetrics = { ...noopMetrics, connectedAgents: (n) => agents.set(n) };
 * ```
 */
export interface GatewayMetrics {
  /** Number of ready agent sessions after a change. */
  connectedAgents(count: number): void;
  /** Number of requests in flight after a change. */
  inFlight(count: number): void;
  /**
   * A request finished (result stored), with its time from dispatch to result. The identity fields
   * (never payloads or secrets) let a host write one log line per settled dispatch.
   */
  dispatchCompleted(info: {
    kind: string;
    status: 'succeeded' | 'failed';
    code?: string;
    durationMs: number;
    requestId?: string;
    organizationId?: string;
    /** The agent it ran on; absent when none was chosen (e.g. expired before sending). */
    agentId?: string;
    /** The agent's name as its session reported it (this replica's sessions only). */
    agentName?: string;
  }): void;
  /** A dispatch was refused before reaching an agent (e.g. `NO_AGENT_AVAILABLE`). */
  dispatchRejected(info: { kind: string; code: string }): void;
  /** Requests waiting in the queue for an agent (all organizations) after a change. Optional. */
  queueDepth?(count: number): void;
  /** A queued request was assigned to an agent, `waitedMs` after it was queued (time-to-assign). Optional. */
  queueAssigned?(info: { kind: string; waitedMs: number }): void;
}

const noop = () => {};

/**
 * The default metrics sink: drops everything.
 *
 * @example
 * ```ts
 * createGateway({ authenticator, serviceToken, metrics: noopMetrics });
 * ```
 */
export const noopMetrics: GatewayMetrics = {
  connectedAgents: noop,
  inFlight: noop,
  dispatchCompleted: noop,
  dispatchRejected: noop,
  queueDepth: noop,
  queueAssigned: noop,
};
