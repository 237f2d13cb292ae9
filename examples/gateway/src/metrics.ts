import type { GatewayMetrics } from '@vespid/sdk-gateway';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * prom-client metrics for the gateway, on their own registry so several hosts can run in one process
 * (tests, the demo).
 *
 * @example
 * ```ts
 * const { registry, metrics } = createGatewayMetrics();
 * createGateway({ authenticator, metrics });
 * res.end(await registry.metrics());
 * ```
 */
export function createGatewayMetrics(): { registry: Registry; metrics: GatewayMetrics } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const agents = new Gauge({ name: 'vespid_gateway_connected_agents', help: 'Ready agent sessions', registers: [registry] });
  const inFlight = new Gauge({ name: 'vespid_gateway_in_flight', help: 'Requests in flight', registers: [registry] });
  const latency = new Histogram({
    name: 'vespid_gateway_dispatch_duration_seconds',
    help: 'Time from dispatch to stored result',
    labelNames: ['kind', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  const results = new Counter({
    name: 'vespid_gateway_results_total',
    help: 'Stored results by status and error code',
    labelNames: ['status', 'code'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'vespid_gateway_dispatch_rejected_total',
    help: 'Dispatches refused before reaching an agent',
    labelNames: ['code'],
    registers: [registry],
  });
  const queued = new Gauge({
    name: 'vespid_gateway_queue_depth',
    help: 'Dispatches waiting for an agent (all organizations)',
    registers: [registry],
  });
  const toAssign = new Histogram({
    name: 'vespid_gateway_queue_wait_seconds',
    help: 'Time from a dispatch being queued to its assignment to an agent',
    labelNames: ['kind'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [registry],
  });
  return {
    registry,
    metrics: {
      connectedAgents: (n) => agents.set(n),
      inFlight: (n) => inFlight.set(n),
      dispatchCompleted: ({ kind, status, code, durationMs }) => {
        latency.observe({ kind, status }, durationMs / 1000);
        results.inc({ status, code: code ?? '' });
      },
      dispatchRejected: ({ code }) => rejected.inc({ code }),
      queueDepth: (n) => queued.set(n),
      queueAssigned: ({ kind, waitedMs }) => toAssign.observe({ kind }, waitedMs / 1000),
    },
  };
}
