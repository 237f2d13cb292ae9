import { type Capabilities, type GatewayMessage, PROTOCOL_VERSION, encodeMessage, parseGatewayMessage } from '@vespid/protocol';
import type { AuthenticatedAgent } from '../authenticator.js';
import type { AgentConnection, ConnectionHandle } from '../core/connection.js';

/**
 * A fake agent connection: records frames the gateway sends and lets a test send frames back.
 * @example
 * ```ts
 * const a: FakeAgent = fakeAgent(gateway, { agentId: 'a1', organizationId: 'o1', tags: [] });
 * a.hello();
 * ```
 */
export interface FakeAgent {
  readonly connection: AgentConnection;
  /** Every frame the gateway sent, parsed. */
  readonly received: GatewayMessage[];
  /** The close code, once the gateway closed the connection. */
  readonly closeCode: number | undefined;
  /** Sends a raw frame (string) or a message object to the gateway. */
  send(frame: string | object): void;
  /** Sends a protocol v1 `hello`. */
  hello(capabilities?: Partial<Capabilities>, name?: string): void;
  /** Frames of one type received so far. */
  frames<T extends GatewayMessage['type']>(type: T): Extract<GatewayMessage, { type: T }>[];
  /** Simulates the transport going away (e.g. network drop). */
  disconnect(code?: number): void;
}

/**
 * Connects a fake agent to a gateway through its transport-neutral `connect()`; no sockets involved.
 * Close calls are reported back to the gateway synchronously, like a transport that closes at once.
 *
 * @example
 * ```ts
 * const a = fakeAgent(gateway, { agentId: 'a1', organizationId: 'o1', tags: [] });
 * a.hello({ kinds: ['connector.action'] });
 * expect(a.frames('hello_ack')).toHaveLength(1);
 * ```
 */
export function fakeAgent(
  gateway: { connect(connection: AgentConnection, agent: AuthenticatedAgent): ConnectionHandle },
  agent: AuthenticatedAgent,
): FakeAgent {
  const received: GatewayMessage[] = [];
  let closeCode: number | undefined;
  let handle: ConnectionHandle | null = null;
  const connection: AgentConnection = {
    remoteAddress: '127.0.0.1',
    send(text) {
      if (closeCode !== undefined) return;
      const parsed = parseGatewayMessage(text);
      if (!parsed.ok) throw new Error(`gateway sent an invalid frame: ${parsed.error.reason}`);
      received.push(parsed.message);
    },
    close(code) {
      if (closeCode !== undefined) return;
      closeCode = code;
      queueMicrotask(() => handle?.closed(code));
    },
    terminate() {
      connection.close(1006, 'terminated');
    },
  };
  handle = gateway.connect(connection, agent);
  return {
    connection,
    received,
    get closeCode() {
      return closeCode;
    },
    send(frame) {
      handle?.receive(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    hello(capabilities = {}, name = agent.agentId) {
      handle?.receive(
        encodeMessage({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          agentVersion: 'fake-1',
          name,
          capabilities: { kinds: ['connector.action', 'agent.execute'], ...capabilities },
        }),
      );
    },
    frames(type) {
      return received.filter((m) => m.type === type) as never;
    },
    disconnect(code = 1006) {
      if (closeCode === undefined) closeCode = code;
      handle?.closed(code);
    },
  };
}
