/**
 * Session-level gateway metrics the library's `GatewayMetrics` sink does not carry, gathered by the
 * host from the hooks it already has: the authenticator (auth failures), the gateway's
 * `agent.connected` (reconnects) and `agent.disconnected` (close codes) events. Registered on the host's registry next to `metrics.ts`.
 */
import type { AgentAuthenticator, AgentHelloInfo } from '@vespid/sdk-gateway';
import { Counter, type Registry } from 'prom-client';

/** Agent ids remembered for reconnect counting; beyond this the oldest are forgotten. */
const MAX_REMEMBERED = 100_000;

/** The authenticator wrapper for `createGateway` and the listeners for `gateway.on()` (compose with the host's own). */
export interface SessionMetrics {
  /** Wraps an authenticator so each refusal counts by reason (`invalid`, `revoked`, `expired`, `error`). */
  authenticator(inner: AgentAuthenticator): AgentAuthenticator;
  onAgentHello(info: AgentHelloInfo): void;
  onAgentDisconnected(info: { code: number }): void;
}

/**
 * Registers `vespid_gateway_session_closes_total{code}`, `vespid_gateway_auth_failures_total{reason}`
 * and `vespid_gateway_agent_reconnects_total` on `registry`.
 *
 * @example
 * ```ts
 * const s = createSessionMetrics(registry);
 * const gateway = createGateway({ authenticator: s.authenticator(auth) });
 * gateway.on('agent.connected', s.onAgentHello);
 * gateway.on('agent.disconnected', s.onAgentDisconnected);
 * ```
 */
export function createSessionMetrics(registry: Registry): SessionMetrics {
  const closes = new Counter({
    name: 'vespid_gateway_session_closes_total',
    help: 'Agent sessions closed, by WebSocket close code (1001 drain, 4401 token, 4403 revoked, 4408 stale, 4409 replaced, …)',
    labelNames: ['code'],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'vespid_gateway_auth_failures_total',
    help: 'Agent upgrades refused by the authenticator, by reason (invalid, revoked, expired = rotated token past its overlap, error = control plane unreachable)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const reconnects = new Counter({
    name: 'vespid_gateway_agent_reconnects_total',
    help: 'Agent sessions opened by an agent that already had a session on this gateway process',
    registers: [registry],
  });
  for (const reason of ['invalid', 'revoked', 'expired', 'error']) authFailures.inc({ reason }, 0);
  reconnects.inc(0);
  const seen = new Set<string>();
  return {
    authenticator(inner) {
      return {
        async authenticate(token, context) {
          try {
            const result = await inner.authenticate(token, context);
            if (!result.ok) authFailures.inc({ reason: result.reason });
            return result;
          } catch (err) {
            authFailures.inc({ reason: 'error' });
            throw err;
          }
        },
      };
    },
    onAgentHello(info) {
      if (seen.has(info.agentId)) {
        reconnects.inc();
        return;
      }
      seen.add(info.agentId);
      if (seen.size > MAX_REMEMBERED) seen.delete(seen.values().next().value as string);
    },
    onAgentDisconnected(info) {
      closes.inc({ code: String(info.code) });
    },
  };
}
