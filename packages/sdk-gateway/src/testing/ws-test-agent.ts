import { type Capabilities, type GatewayMessage, PROTOCOL_VERSION, encodeMessage, parseGatewayMessage } from '@vespid/protocol';
import WebSocket from 'ws';

/**
 * A minimal real WebSocket agent for integration tests of a gateway.
 * @example
 * ```ts
 * const agent: TestAgent = await connectTestAgent({ url, token });
 * await agent.next('execute');
 * ```
 */
export interface TestAgent {
  readonly ws: WebSocket;
  readonly received: GatewayMessage[];
  /** Resolves with the close code once the socket closed. */
  readonly closedWith: Promise<number>;
  send(frame: string | object): void;
  /** Resolves with the next (or an already received, unconsumed) frame of `type`; rejects after `timeoutMs`. */
  next<T extends GatewayMessage['type']>(type: T, timeoutMs?: number): Promise<Extract<GatewayMessage, { type: T }>>;
  /** Replies to every `execute` with `handler`'s result (default: echo the payload). */
  autoRespond(handler?: (execute: Extract<GatewayMessage, { type: 'execute' }>) => object | null): void;
  close(): Promise<void>;
}

/**
 * Options of {@link connectTestAgent}.
 * @example
 * ```ts
 * connectTestAgent({ url: 'ws://127.0.0.1:3002/ws', token, capabilities: { kinds: ['agent.execute'] } } satisfies TestAgentOptions);
 * ```
 */
export interface TestAgentOptions {
  url: string;
  token: string;
  capabilities?: Partial<Capabilities>;
  name?: string;
  /** Send `hello` and wait for `hello_ack` before resolving. @default true */
  hello?: boolean;
}

/**
 * Connects a real `ws` client as an agent (`Authorization: Bearer <token>`), says hello and waits for
 * the ack. Rejects with `HTTP <status> <body>` when the upgrade is refused.
 *
 * @example
 * ```ts
 * const agent = await connectTestAgent({ url: 'ws://127.0.0.1:1234/ws', token, capabilities: { kinds: ['agent.execute'] } });
 * agent.autoRespond();
 * ```
 */
export function connectTestAgent(options: TestAgentOptions): Promise<TestAgent> {
  const ws = new WebSocket(options.url, { headers: { authorization: `Bearer ${options.token}` }, perMessageDeflate: false });
  const received: GatewayMessage[] = [];
  const consumed = new Set<GatewayMessage>();
  const waiters: Array<() => void> = [];
  let responder: ((m: Extract<GatewayMessage, { type: 'execute' }>) => object | null) | null = null;
  const closedWith = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (data) => {
    const parsed = parseGatewayMessage(data);
    if (!parsed.ok) return;
    received.push(parsed.message);
    if (parsed.message.type === 'execute' && responder) {
      const reply = responder(parsed.message);
      if (reply) ws.send(JSON.stringify(reply));
    }
    for (const w of waiters.splice(0)) w();
  });
  const agent: TestAgent = {
    ws,
    received,
    closedWith,
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    next(type, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs);
        const check = () => {
          const m = received.find((x) => x.type === type && !consumed.has(x));
          if (m) {
            consumed.add(m);
            clearTimeout(timer);
            resolve(m as never);
            return;
          }
          if (ws.readyState === WebSocket.CLOSED) {
            clearTimeout(timer);
            reject(new Error(`socket closed while waiting for ${type}`));
            return;
          }
          waiters.push(check);
        };
        closedWith.then(() => {
          for (const w of waiters.splice(0)) w();
        });
        check();
      });
    },
    autoRespond(handler) {
      responder =
        handler ?? ((m) => ({ type: 'execute_result', requestId: m.requestId, status: 'succeeded', output: { echo: m.payload } }));
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close(1000);
      await Promise.race([closedWith, new Promise((r) => setTimeout(r, 2000))]);
      if ((ws.readyState as number) !== WebSocket.CLOSED) ws.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => reject(new Error(`HTTP ${res.statusCode} ${body}`)));
    });
    ws.once('error', reject);
    ws.once('open', () => {
      if (options.hello === false) return resolve(agent);
      ws.send(
        encodeMessage({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          agentVersion: 'test-1',
          name: options.name ?? 'test-agent',
          capabilities: { kinds: ['connector.action', 'agent.execute'], ...options.capabilities },
        }),
      );
      agent.next('hello_ack').then(() => resolve(agent), reject);
    });
  });
}
