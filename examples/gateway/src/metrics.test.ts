import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from './metrics.js';

describe('gateway metrics', () => {
  it('exposes queue depth and time-to-assign', async () => {
    const { registry, metrics } = createGatewayMetrics();
    metrics.queueDepth?.(3);
    metrics.queueAssigned?.({ kind: 'agent.execute', waitedMs: 2500 });
    const text = await registry.metrics();
    expect(text).toMatch(/^vespid_gateway_queue_depth 3$/m);
    expect(text).toMatch(/^vespid_gateway_queue_wait_seconds_count\{kind="agent.execute"\} 1$/m);
    expect(text).toMatch(/^vespid_gateway_queue_wait_seconds_sum\{kind="agent.execute"\} 2.5$/m);
  });
});
