/**
 * `receipt_in_result`: against a gateway that echoes the feature in `hello_ack`, a task finished within
 * the loop turn its `execute` arrived in is answered with one frame (`execute_result`, no
 * `execute_received`); a slower task is confirmed first, as before; a gateway that does not echo the
 * feature (an older one) always gets the confirmation.
 */
import type { AddressInfo } from 'node:net';
import { type AgentMessage, type GatewayMessage, parseAgentMessage } from '@vespid/protocol';
import { afterEach, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { createAgent, type Agent } from './agent.js';
import type { Executor } from './executor.js';
import { waitFor } from '../../../test/support/wait-for.js';

const ORG = 'org-receipt';
const TOKEN = `${ORG}.tok_${'b'.repeat(24)}`;

/** A minimal gateway: hello → hello_ack (echoing `receipt_in_result` when `echo`), records every frame. */
async function rawGateway(echo: boolean) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const frames: AgentMessage[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const parsed = parseAgentMessage(data.toString());
      if (!parsed.ok) return;
      const m = parsed.message;
      frames.push(m);
      if (m.type === 'hello') {
        const features = echo && m.capabilities.features?.includes('receipt_in_result') ? { features: ['receipt_in_result'] } : {};
        ws.send(
          JSON.stringify({ type: 'hello_ack', sessionId: 's1', agentId: 'a1', organizationId: ORG, heartbeatMs: 10_000, ...features }),
        );
      }
      if (m.type === 'execute_result') ws.send(JSON.stringify({ type: 'execute_ack', requestId: m.requestId }));
    });
  });
  const send = (m: GatewayMessage) => sockets.at(-1)!.send(JSON.stringify(m));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
    frames,
    execute: (requestId: string, kind: string) =>
      send({ type: 'execute', requestId, organizationId: ORG, kind, payload: {}, timeoutMs: 10_000 }),
    executeThenDrop: (requestId: string, kind: string) => {
      send({ type: 'execute', requestId, organizationId: ORG, kind, payload: {}, timeoutMs: 10_000 });
      sockets.at(-1)!.terminate();
    },
    /** Frame types the agent sent about `requestId`, in order. */
    about: (requestId: string) => frames.filter((f) => 'requestId' in f && f.requestId === requestId).map((f) => f.type),
    close: () => {
      for (const s of sockets) s.terminate();
      return new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

const fast: Executor = { kind: 'fast', execute: async () => ({ status: 'succeeded', output: { fast: true } }) };
const gates = new Map<string, () => void>();
const started = new Map<string, number>();
const slow: Executor = {
  kind: 'slow',
  execute: async (task) => {
    started.set(task.requestId, (started.get(task.requestId) ?? 0) + 1);
    await new Promise<void>((r) => gates.set(task.requestId, r));
    return { status: 'succeeded', output: { slow: true } };
  },
};

let gw: Awaited<ReturnType<typeof rawGateway>> | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.close({ timeoutMs: 500 });
  agent = undefined;
  await gw?.close();
  gw = undefined;
});

async function connect(echo: boolean) {
  gw = await rawGateway(echo);
  agent = createAgent({
    gatewayWsUrl: gw.url,
    agentToken: TOKEN,
    name: 'receipts',
    executors: [fast, slow],
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
  });
  await agent.start();
  await waitFor(() => (agent?.state === 'connected' ? true : undefined), 'connected');
  return gw;
}

it('announces receipt_in_result in hello', async () => {
  const g = await connect(true);
  expect(g.frames[0]).toMatchObject({ type: 'hello', capabilities: { features: expect.arrayContaining(['receipt_in_result']) } });
});

it('answers a task finished within the turn with its result only, and confirms a slow one first', async () => {
  const g = await connect(true);
  g.execute('r-fast:n:0', 'fast');
  await waitFor(() => (g.about('r-fast:n:0').includes('execute_result') ? true : undefined), 'fast result');
  g.execute('r-slow:n:0', 'slow');
  // Confirmed while still running: the agent owns it from here, as before.
  await waitFor(() => (g.about('r-slow:n:0').includes('execute_received') ? true : undefined), 'slow receipt');
  gates.get('r-slow:n:0')!();
  await waitFor(() => (g.about('r-slow:n:0').includes('execute_result') ? true : undefined), 'slow result');
  // The slow task's result came after the fast one's: nothing else about the fast task was on its way.
  expect(g.about('r-fast:n:0')).toEqual(['execute_result']);
  expect(g.about('r-slow:n:0')).toEqual(['execute_received', 'execute_result']);
});

it('always confirms first to a gateway that does not echo the feature', async () => {
  const g = await connect(false);
  g.execute('r-old:n:0', 'fast');
  await waitFor(() => (g.about('r-old:n:0').includes('execute_result') ? true : undefined), 'result');
  expect(g.about('r-old:n:0')).toEqual(['execute_received', 'execute_result']);
});

it('a session lost while a receipt waits for the end of the turn: the task runs once and its result comes on the next session', async () => {
  const g = await connect(true);
  // The gateway goes away right behind the execute: the deferred receipt may find no session.
  g.executeThenDrop('r-lost:n:0', 'slow');
  await waitFor(() => (gates.has('r-lost:n:0') ? true : undefined), 'task running');
  await waitFor(() => (g.frames.filter((f) => f.type === 'hello').length === 2 ? true : undefined), 'reconnected');
  gates.get('r-lost:n:0')!();
  await waitFor(() => (g.about('r-lost:n:0').includes('execute_result') ? true : undefined), 'result on the next session');
  const secondHello = g.frames.findLastIndex((f) => f.type === 'hello');
  expect(g.frames.findIndex((f) => f.type === 'execute_result')).toBeGreaterThan(secondHello);
  expect(started.get('r-lost:n:0')).toBe(1);
});
