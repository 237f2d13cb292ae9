import { type ErrorCode, type ErrorInfo, VespidError, type VespidErrorOptions } from '@vespid/protocol';

/**
 * The error class of `@vespid/sdk-agent`. Codes come from the protocol catalogue
 * (`SANDBOX_BACKEND_NOT_CONFIGURED`, `SECRET_REQUIRED`, `ACTION_NOT_SUPPORTED:<connector>:<action>`, …).
 * Messages never contain secrets or tokens.
 *
 * @example
 * ```ts
 * throw new AgentError('SECRET_REQUIRED', 'github:issue.create needs a secret');
 * ```
 */
export class AgentError extends VespidError {
  constructor(code: ErrorCode, message: string, options: VespidErrorOptions = {}) {
    super(code, message, options);
    this.name = 'AgentError';
  }
}

/**
 * Why an agent stopped for good: its credentials were refused (HTTP 401/403 on upgrade, or close
 * 4401/4403). Retrying with the same token cannot help.
 *
 * @example
 * ```ts
 * agent.on('stopped', ({ error }) => { if (error instanceof AgentAuthError) alertOperator(error.message); });
 * ```
 */
export class AgentAuthError extends AgentError {
  /** HTTP status of the refused upgrade, or the WebSocket close code. */
  readonly status: number;
  constructor(code: 'UNAUTHORIZED' | 'AGENT_REVOKED' | 'AGENT_TOKEN_EXPIRED', message: string, status: number) {
    super(code, message, { retryable: false });
    this.name = 'AgentAuthError';
    this.status = status;
  }
}

/**
 * Turns anything thrown into a wire error body without leaking stacks or causes.
 *
 * @example
 * ```ts
 * return { status: 'failed', error: toErrorInfo(err) };
 * ```
 */
export function toErrorInfo(err: unknown, fallbackCode = 'INTERNAL_ERROR'): ErrorInfo {
  if (VespidError.is(err)) {
    const e = err as VespidError;
    const info: ErrorInfo = { code: e.code, message: truncate(e.message), retryable: e.retryable };
    if (e.details) info.details = e.details;
    return info;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: fallbackCode, message: truncate(message) };
}

function truncate(s: string): string {
  return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}
