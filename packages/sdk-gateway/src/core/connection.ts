/**
 * The small transport interface the gateway core talks to. The `ws` adapter wraps a WebSocket in it;
 * unit tests use a fake (see `@vespid/sdk-gateway/testing`). Keeping `ws` out of the core is what lets
 * the routing logic be tested without sockets.
 *
 * @example
 * ```ts
 * const conn: AgentConnection = {
 *   remoteAddress: '127.0.0.1',
 *   send: (text) => ws.send(text),
 *   close: (code, reason) => ws.close(code, reason),
 *   terminate: () => ws.terminate(),
 * };
 * ```
 */
export interface AgentConnection {
  /** Peer address, for logs only. */
  readonly remoteAddress: string | undefined;
  /** Sends one text frame. Must not throw once the connection is closing. */
  send(text: string): void;
  /** Starts a clean close with a WebSocket close code. */
  close(code: number, reason: string): void;
  /** Drops the connection at once (used when a clean close does not finish in time). */
  terminate(): void;
}

/**
 * What the transport calls back into the core for one connection.
 *
 * @example
 * ```ts
 * const handle = gateway.connect(conn, agent);
 * ws.on('message', (data) => handle.receive(data));
 * ws.on('close', (code) => handle.closed(code));
 * ```
 */
export interface ConnectionHandle {
  /** One received text frame (string or Buffer). */
  receive(data: unknown): void;
  /** The connection is gone (any reason). Idempotent. */
  closed(code?: number): void;
}
