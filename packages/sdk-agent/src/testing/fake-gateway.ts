import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  type AgentMessage,
  bearerToken,
  encodeMessage,
  type GatewayMessage,
  type Hello,
  parseAgentMessage,
  tokensEqual,
} from '@vespid/protocol';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * Options of {@link createFakeAgentGateway}.
 *
 * @example
 * ```ts
 * await createFakeAgentGateway({ token, answerPings: false }); // a hung gateway
 * ```
 */
export interface FakeAgentGatewayOptions {
  /** The one valid agent token. */
  token: string;
  agentId?: string;
  organizationId?: string;
  /** Sent in `hello_ack`. @default 1000 */
  heartbeatMs?: number;
  /** Answer pings with pongs. Set false to simulate a hung gateway. @default true */
  answerPings?: boolean;
  /** Ack every `execute_result`. @default true */
  ackResults?: boolean;
  /** Serve `wss://` with this key pair (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/**
 * One accepted agent connection as the fake gateway sees it.
 *
 * @example
 * ```ts
 * const s = await gw.nextSession(); s.send({ type: 'cancel', requestId: 'r1', reason: 'stop' });
 * ```
 */
export interface FakeAgentGatewaySession {
  readonly hello: Hello;
  readonly socket: WebSocket;
  /** Every frame the agent sent on this session, in order (hello included). */
  readonly frames: AgentMessage[];
  send(message: GatewayMessage): void;
}

/**
 * A small, protocol-faithful stand-in for the gateway (wire protocol v1 over a real `ws` server on
 * 127.0.0.1, random port): bearer auth before upgrade (401/403 with `{code,message}`), `hello` →
 * `hello_ack`, `ping` → `pong`, `execute_result` → `execute_ack`. For unit tests of agents and
 * executors without the real gateway.
 *
 * @example
 * ```ts
 * const gw = await createFakeAgentGateway({ token });
 * const agent = createAgent({ gatewayWsUrl: gw.url, agentToken: token, name: 't', executors });
 * await agent.start();
 * const session = await gw.nextSession();
 * const result = await gw.execute({ requestId: 'r1', kind: 'echo', payload: 1 });
 * await gw.close();
 * ```
 */
export interface FakeAgentGateway {
  readonly url: string;
  readonly port: number;
  /** Sessions in connection order. */
  readonly sessions: readonly FakeAgentGatewaySession[];
  /** Every result received (across sessions), in arrival order, resends included. */
  readonly results: Extract<AgentMessage, { type: 'execute_result' }>[];
  /** Refuse future upgrades: 401 `invalid` or 403 `revoked`; `undefined` accepts again. */
  refuse(kind: 'invalid' | 'revoked' | undefined): void;
  /** Resolves with the next session that completes `hello` (or the current one if `current` and open). */
  nextSession(): Promise<FakeAgentGatewaySession>;
  /** Sends `execute` on the latest session and resolves with its first result. */
  execute(frame: {
    requestId: string;
    kind: string;
    payload?: unknown;
    secret?: string;
    timeoutMs?: number;
    organizationId?: string;
  }): Promise<Extract<AgentMessage, { type: 'execute_result' }>>;
  /** Resolves with the next result for `requestId` arriving after the call. */
  waitForResult(requestId: string): Promise<Extract<AgentMessage, { type: 'execute_result' }>>;
  /** Closes every open session with `code`. */
  dropSessions(code?: number, reason?: string): void;
  setAnswerPings(on: boolean): void;
  setAckResults(on: boolean): void;
  close(): Promise<void>;
}

type Result = Extract<AgentMessage, { type: 'execute_result' }>;

/**
 * Starts a {@link FakeAgentGateway}.
 *
 * @example
 * ```ts
 * const gw = await createFakeAgentGateway({ token, heartbeatMs: 200 });
 * const result = await gw.execute({ requestId: 'r1', kind: 'echo' });
 * ```
 */
export async function createFakeAgentGateway(options: FakeAgentGatewayOptions): Promise<FakeAgentGateway> {
  const agentId = options.agentId ?? 'agent-1';
  const organizationId = options.organizationId ?? options.token.split('.')[0] ?? 'org-1';
  let answerPings = options.answerPings ?? true;
  let ackResults = options.ackResults ?? true;
  let refusal: 'invalid' | 'revoked' | undefined;
  const sessions: FakeAgentGatewaySession[] = [];
  const results: Result[] = [];
  const sessionWaiters: ((s: FakeAgentGatewaySession) => void)[] = [];
  const resultWaiters = new Map<string, ((r: Result) => void)[]>();
  let seq = 0;

  const notFound = (_req: unknown, res: { statusCode: number; end(): void }) => {
    res.statusCode = 404;
    res.end();
  };
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, notFound)
    : createServer(notFound);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const token = bearerToken(req.headers.authorization);
    const deny = (status: number, code: string) => {
      const body = JSON.stringify({ code, message: status === 403 ? 'agent revoked' : 'invalid agent token' });
      socket.end(
        `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Unauthorized'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    if (!token || !tokensEqual(token, options.token) || refusal === 'invalid') return deny(401, 'UNAUTHORIZED');
    if (refusal === 'revoked') return deny(403, 'AGENT_REVOKED');
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket) {
    const frames: AgentMessage[] = [];
    let session: FakeAgentGatewaySession | undefined;
    ws.on('message', (data) => {
      const parsed = parseAgentMessage(data.toString());
      if (!parsed.ok) return ws.close(parsed.error.closeCode, parsed.error.reason.slice(0, 100));
      const msg = parsed.message;
      frames.push(msg);
      switch (msg.type) {
        case 'hello':
          session = { hello: msg, socket: ws, frames, send: (m) => ws.readyState === WebSocket.OPEN && ws.send(encodeMessage(m)) };
          sessions.push(session);
          session.send({ type: 'hello_ack', sessionId: `s${++seq}`, agentId, organizationId, heartbeatMs: options.heartbeatMs ?? 1000 });
          for (const w of sessionWaiters.splice(0)) w(session);
          return;
        case 'ping':
          if (answerPings) session?.send({ type: 'pong', ts: msg.ts });
          return;
        case 'execute_result':
          results.push(msg);
          if (ackResults) session?.send({ type: 'execute_ack', requestId: msg.requestId });
          for (const w of resultWaiters.get(msg.requestId)?.splice(0) ?? []) w(msg);
          return;
        case 'execute_received':
        case 'rotate_token_ack':
          // Recorded in `frames` only; tests read them from there.
          return;
        default: {
          // Exhaustive: a frame added to the protocol fails to compile here until the fake decides.
          msg satisfies never;
          return;
        }
      }
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const waitForResult = (requestId: string) =>
    new Promise<Result>((resolve) => {
      const list = resultWaiters.get(requestId) ?? [];
      list.push(resolve);
      resultWaiters.set(requestId, list);
    });

  return {
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    port,
    sessions,
    results,
    refuse: (kind) => {
      refusal = kind;
    },
    nextSession: () => new Promise((resolve) => sessionWaiters.push(resolve)),
    waitForResult,
    async execute(frame) {
      const s = sessions.at(-1);
      if (!s) throw new Error('no agent session');
      const p = waitForResult(frame.requestId);
      const execute: GatewayMessage = {
        type: 'execute',
        requestId: frame.requestId,
        organizationId: frame.organizationId ?? organizationId,
        kind: frame.kind,
        payload: frame.payload ?? null,
        timeoutMs: frame.timeoutMs ?? 30_000,
      };
      if (frame.secret !== undefined) execute.secret = frame.secret;
      s.send(execute);
      return p;
    },
    dropSessions(code = 1001, reason = 'going away') {
      for (const s of sessions) if (s.socket.readyState === WebSocket.OPEN) s.socket.close(code, reason);
    },
    setAnswerPings: (on) => {
      answerPings = on;
    },
    setAckResults: (on) => {
      ackResults = on;
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The old names, kept for one release: `@vespid/sdk-dispatch/testing` has a fake gateway of its own (the
// internal HTTP API), and two `createFakeGateway` with different shapes were easy to mix up.
/**
 * @deprecated Renamed {@link createFakeAgentGateway}; this alias goes in the next minor release.
 *
 * @example
 * ```ts
 * // before: createFakeGateway
 * // now:    createFakeAgentGateway
 * ```
 */
export const createFakeGateway = createFakeAgentGateway;
/**
 * @deprecated Renamed {@link FakeAgentGatewayOptions}; this alias goes in the next minor release.
 *
 * @example
 * ```ts
 * // before: FakeGatewayOptions
 * // now:    FakeAgentGatewayOptions
 * ```
 */
export type FakeGatewayOptions = FakeAgentGatewayOptions;
/**
 * @deprecated Renamed {@link FakeAgentGatewaySession}; this alias goes in the next minor release.
 *
 * @example
 * ```ts
 * // before: FakeGatewaySession
 * // now:    FakeAgentGatewaySession
 * ```
 */
export type FakeGatewaySession = FakeAgentGatewaySession;
/**
 * @deprecated Renamed {@link FakeAgentGateway}; this alias goes in the next minor release.
 *
 * @example
 * ```ts
 * // before: FakeGateway
 * // now:    FakeAgentGateway
 * ```
 */
export type FakeGateway = FakeAgentGateway;
