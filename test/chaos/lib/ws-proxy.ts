/**
 * A frame-level WebSocket proxy between one agent and the gateway, for deterministic crash points:
 * it forwards every text frame both ways, except `execute_result` frames the test chose to withhold
 * (recorded instead). "The agent finished the task and sent its result, the gateway never got it"
 * is then a state the test waits for, not a race it hopes to hit. A closed side closes the other
 * abruptly, so the gateway sees a killed agent exactly as it would without the proxy.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as Ws from '../../../packages/sdk-gateway/node_modules/@types/ws';

const ws = createRequire(new URL('../../../packages/sdk-gateway/package.json', import.meta.url))('ws') as typeof Ws;

export interface WsProxy {
  /** `ws://` URL to give the agent. */
  url: string;
  /** Results the proxy withheld from the gateway, in arrival order. */
  withheld: Array<{ requestId: string; frame: string }>;
  /** Withhold `execute_result` frames whose request id matches; `undefined` forwards everything. */
  withholdResults(match: ((requestId: string) => boolean) | undefined): void;
  close(): Promise<void>;
}

export async function startWsProxy(upstreamUrl: string): Promise<WsProxy> {
  const withheld: WsProxy['withheld'] = [];
  let match: ((requestId: string) => boolean) | undefined;
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new ws.WebSocketServer({ server, perMessageDeflate: false });
  const sockets = new Set<Ws.WebSocket>();
  wss.on('connection', (agent, req) => {
    const gateway = new ws.WebSocket(upstreamUrl, {
      headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
      perMessageDeflate: false,
    });
    sockets.add(agent);
    sockets.add(gateway);
    const queue: string[] = [];
    const toGateway = (text: string) => (gateway.readyState === ws.WebSocket.OPEN ? gateway.send(text) : queue.push(text));
    gateway.on('open', () => {
      for (const t of queue.splice(0)) gateway.send(t);
    });
    agent.on('message', (data) => {
      const text = data.toString();
      if (match) {
        const frame = JSON.parse(text) as { type?: string; requestId?: string };
        if (frame.type === 'execute_result' && frame.requestId && match(frame.requestId)) {
          withheld.push({ requestId: frame.requestId, frame: text });
          return;
        }
      }
      toGateway(text);
    });
    gateway.on('message', (data) => {
      if (agent.readyState === ws.WebSocket.OPEN) agent.send(data.toString());
    });
    const drop = () => {
      agent.terminate();
      gateway.terminate();
      sockets.delete(agent);
      sockets.delete(gateway);
    };
    for (const s of [agent, gateway]) {
      s.on('close', drop);
      s.on('error', drop);
    }
    // The gateway refusing the upgrade (401/403) reaches the agent as a closed socket.
    gateway.on('unexpected-response', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    withheld,
    withholdResults(m) {
      match = m;
    },
    async close() {
      for (const s of sockets) s.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
