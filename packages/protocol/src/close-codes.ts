/**
 * WebSocket close codes used between gateway and agent. 1xxx are standard; 44xx mirror HTTP meanings
 * so that an operator reading a log line can guess them.
 *
 * @example
 * ```ts
 * socket.close(CloseCode.Revoked, 'agent revoked');
 * ```
 */
export const CloseCode = {
  /** The gateway is shutting down (sent after `drain`). Reconnect, ideally to another replica. */
  GoingAway: 1001,
  /** A frame exceeded `maxPayload`. */
  MessageTooBig: 1009,
  /** A malformed, unknown or out-of-order frame. */
  ProtocolViolation: 4400,
  /** The agent token is no longer valid. Do not retry with the same token. */
  TokenInvalid: 4401,
  /** The agent was revoked. Do not retry. */
  Revoked: 4403,
  /** No message (ping) within the stale window. */
  Stale: 4408,
  /** A newer session of the same agent replaced this one. */
  Replaced: 4409,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Close codes after which an agent must stop instead of reconnecting: its credentials are dead.
 *
 * @example
 * ```ts
 * if (FATAL_CLOSE_CODES.has(code)) stopForGood(); else scheduleReconnect();
 * ```
 */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.TokenInvalid, CloseCode.Revoked]);

/**
 * Human-readable name for a close code, for logs.
 *
 * @example
 * ```ts
 * logger.warn({ code, name: closeCodeName(code) }, 'session closed'); // name: 'Stale' for 4408
 * ```
 */
export function closeCodeName(code: number): string {
  for (const [name, value] of Object.entries(CloseCode)) if (value === code) return name;
  return `Unknown(${code})`;
}
