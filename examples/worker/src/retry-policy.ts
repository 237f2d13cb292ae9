/**
 * Which failed node attempts the worker runs again (up to WORKFLOW_NODE_MAX_ATTEMPTS). The rule is
 * "retry when running the node again is safe and may help", decided per code:
 *
 * - The request never ran, or its agent went away or stopped before finishing: `NO_AGENT_AVAILABLE`,
 *   `GATEWAY_UNAVAILABLE`, `GATEWAY_SHUTDOWN`, `AGENT_DISCONNECTED`, `AGENT_SHUTDOWN`, `AGENT_RESTARTED`,
 *   `AGENT_OUTBOX_FULL` — always retried.
 * - `HTTP_REQUEST_FAILED` — retried unless the failure says otherwise: a connector that got an answer
 *   marks a 4xx `retryable: false` (the same request fails again) and a 5xx or a network error
 *   `retryable: true`. A POST or PATCH of the built-in `http` connector is never retried: its request
 *   may have reached the server (a timeout or a reset after sending), and running it twice can create
 *   twice.
 * - `NODE_EXECUTION_TIMEOUT` — never retried: the action may still be running or may have had its
 *   effect, and a task that ran out of time usually does again. Raise the node's `timeoutMs` instead.
 * - Everything else fails the node (re-run the workflow once the cause is fixed).
 *
 * The error catalogue's `retryable` flags and docs/operator-guide.md ("Retries") say the same.
 */
import { ErrorCodes, type ErrorInfo } from '@vespid/protocol';
import type { WorkflowNode } from '@vespid/example-api';

/** Codes of requests that never ran or whose agent went away: running them again is what recovers. */
const ALWAYS = new Set<string>([
  ErrorCodes.NO_AGENT_AVAILABLE,
  ErrorCodes.AGENT_DISCONNECTED,
  ErrorCodes.GATEWAY_UNAVAILABLE,
  ErrorCodes.GATEWAY_SHUTDOWN,
  ErrorCodes.AGENT_SHUTDOWN,
  // The agent crashed mid-task (reported from its outbox journal) or refused it because its outbox is
  // full: the task did not finish, and another attempt (maybe on another agent) is what recovers.
  ErrorCodes.AGENT_RESTARTED,
  ErrorCodes.AGENT_OUTBOX_FULL,
]);

/** HTTP methods whose repetition changes nothing beyond the first call. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** Whether a failed attempt of `node` with `error` gets another attempt (attempt limits aside). */
export function isRetryableFailure(error: ErrorInfo, node: WorkflowNode): boolean {
  if (ALWAYS.has(error.code)) return true;
  if (error.code === ErrorCodes.HTTP_REQUEST_FAILED) {
    if (error.retryable === false) return false;
    return !isNonIdempotentHttpRequest(node);
  }
  return false;
}

function isNonIdempotentHttpRequest(node: WorkflowNode): boolean {
  if (node.type !== 'connector.action' || node.config.connectorId !== 'http') return false;
  const method = (node.config.input as { method?: unknown } | null | undefined)?.method;
  // The http connector's default method is GET.
  return typeof method === 'string' && !IDEMPOTENT_METHODS.has(method.toUpperCase());
}
