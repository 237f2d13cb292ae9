/**
 * One info line per settled dispatch, written from the gateway's metrics hook so the library keeps
 * its own logs at debug and the host decides what an operator sees. Only identities, outcome and
 * timing: never a payload, output, secret or error message (an executor's message can quote input).
 */
import type { Logger } from '@vespid/protocol';
import type { GatewayMetrics } from '@vespid/sdk-gateway';

/**
 * Wraps `metrics` so every completed dispatch also logs
 * `{requestId, organizationId, agentId, agent, kind, status, code, durationMs} dispatch settled`.
 *
 * @example
 * ```ts
 * createGateway({ metrics: withDispatchLog(metrics, logger), ... });
 * ```
 */
export function withDispatchLog(metrics: GatewayMetrics, logger: Logger): GatewayMetrics {
  return {
    ...metrics,
    dispatchCompleted(info) {
      metrics.dispatchCompleted(info);
      logger.info(
        {
          requestId: info.requestId,
          organizationId: info.organizationId,
          agentId: info.agentId,
          agent: info.agentName ?? info.agentId,
          kind: info.kind,
          status: info.status,
          ...(info.code ? { code: info.code } : {}),
          durationMs: info.durationMs,
        },
        'dispatch settled',
      );
    },
  };
}
