/**
 * The dispatch client against a real gateway and a real agent, over the channel and over HTTP: the
 * same answers and error codes, the channel really carrying the calls, a channel dropped mid-flight
 * losing and duplicating nothing, and a closing gateway answering what its channels had in flight.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Logger, ROUTES, generateToken } from '@vespid/protocol';
import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';
import { type Gateway, createGateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/support/wait-for.js';
import { type DispatchClient, createDispatchClient } from './dispatch-client.js';

const ORG = 'org-channel';
const SERVICE_TOKEN = `svc-CANARY-${Math.random().toString(36).slice(2)}`;
const AGENT_TOKEN = generateToken(ORG);

const logs: string[] = [];
const log = (o: object, m?: string) => logs.push(JSON.stringify({ ...o, m }));
const logger: Logger = { debug: log, info: log, warn: log, error: log };

/** A gateway (memory results) on port 0 with the agent path and the channel on one server, and one agent. */
async function startStack() {
  const runs = new Map<string, number>();
  const release: Array<() => void> = [];
  const executor: Executor = {
    kind: 'connector.action',
    connectors: ['test'],
    async execute(task) {
      runs.set(task.requestId, (runs.get(task.requestId) ?? 0) + 1);
      const { actionId, input } = task.payload as { actionId: string; input?: unknown };
      if (actionId === 'hang') await new Promise<void>((r) => release.push(r));
      if (actionId === 'fail') return { status: 'failed', error: { code: 'HTTP_REQUEST_FAILED', message: 'upstream said no' } };
      return { status: 'succeeded', output: { echo: input ?? null } };
    },
  };
  const gateway: Gateway = createGateway({
    authenticator: staticAuthenticator([{ token: AGENT_TOKEN, agentId: 'agent-1', organizationId: ORG, tags: [] }]),
    serviceToken: SERVICE_TOKEN,
    logger,
  });
  const httpDispatches: string[] = [];
  const channelSockets: Duplex[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === ROUTES.dispatch || req.url === ROUTES.dispatchAsync) httpDispatches.push(req.url);
    gateway.httpHandler(req, res);
  });
  server.on('upgrade', (req, socket: Duplex) => {
    if (req.url === ROUTES.channel) channelSockets.push(socket);
  });
  // Upgraded sockets leave the server's bookkeeping (closeAllConnections misses them): stop() ends them all.
  const sockets = new Set<Duplex>();
  server.on('connection', (s) => sockets.add(s));
  gateway.attach(server, { path: '/ws' });
  gateway.attachChannel(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent: Agent = createAgent({
    gatewayWsUrl: `ws://127.0.0.1:${port}/ws`,
    agentToken: AGENT_TOKEN,
    name: 'a',
    executors: [executor],
  });
  await agent.start();
  await waitFor(() => gateway.listSessions().some((s) => s.state === 'ready'), { what: 'the agent', timeoutMs: 10_000 });
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    runs,
    httpDispatches,
    channelSockets,
    releaseAll: () => {
      for (const r of release.splice(0)) r();
    },
    async stop() {
      for (const r of release.splice(0)) r();
      await agent.close({ timeoutMs: 2000 });
      await gateway.close({ timeoutMs: 2000 });
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

type Stack = Awaited<ReturnType<typeof startStack>>;
const clients: DispatchClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close({ timeoutMs: 1000 });
});

async function clientFor(stack: Stack, channel: 'ws' | 'http', serviceToken = SERVICE_TOKEN): Promise<DispatchClient> {
  const client = createDispatchClient({ gatewayHttpUrl: stack.url, serviceToken, channel, logger });
  clients.push(client);
  if (channel === 'ws' && serviceToken === SERVICE_TOKEN) {
    // The first call goes over HTTP while the channel opens.
    await client.getResult('warm:up:0');
    await client.dispatchAsync(node('warm', 'echo'));
    await waitFor(() => client.channelState === 'open', 'the channel to open');
  }
  stack.httpDispatches.length = 0;
  return client;
}

let seq = 0;
const node = (tag: string, actionId: string, over: object = {}) => ({
  organizationId: ORG,
  requestId: `${tag}-${++seq}:n:0`,
  kind: 'connector.action',
  payload: { connectorId: 'test', actionId, input: tag },
  timeoutMs: 10_000,
  ...over,
});

describe('dispatch client against a real gateway and agent', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe.each(['ws', 'http'] as const)('over %s', (channel) => {
    it('gives the same results and error codes', async () => {
      const client = await clientFor(stack, channel);
      const ok = node('ok', 'echo');
      expect(await client.dispatch(ok)).toEqual({ requestId: ok.requestId, status: 'succeeded', output: { echo: 'ok' } });
      // Idempotent per request id: the stored result, not a second run.
      expect(await client.dispatch(ok)).toEqual({ requestId: ok.requestId, status: 'succeeded', output: { echo: 'ok' } });
      expect(await client.dispatchAsync(ok)).toEqual({ requestId: ok.requestId, dispatched: false, cached: true });
      const failed = node('fail', 'fail');
      expect(await client.dispatch(failed)).toMatchObject({ status: 'failed', error: { code: 'HTTP_REQUEST_FAILED' } });
      const fresh = node('async', 'echo');
      expect(await client.dispatchAsync(fresh)).toMatchObject({ requestId: fresh.requestId, dispatched: true, agentId: 'agent-1' });
      await waitFor(() => client.getResult(fresh.requestId), 'the async result');
      const elsewhere = node('none', 'echo', { organizationId: 'org-without-agents' });
      await expect(client.dispatch(elsewhere)).rejects.toMatchObject({ code: 'NO_AGENT_AVAILABLE', retryable: true, httpStatus: 503 });
      expect(await client.dispatchAsync({ ...elsewhere, queueTimeoutMs: 60_000 })).toMatchObject({
        dispatched: false,
        queued: true,
        position: 1,
      });
      expect(await client.cancel({ organizationId: elsewhere.organizationId, requestId: elsewhere.requestId })).toMatchObject({
        cancelled: true,
      });
      expect(stack.runs.get(ok.requestId)).toBe(1);
      // Over the channel no dispatch took an HTTP request.
      expect(stack.httpDispatches).toHaveLength(channel === 'ws' ? 0 : 7);
    });
  });

  it('refuses a wrong service token (401 UNAUTHORIZED over HTTP after the refused upgrade), never logging either token', async () => {
    const wrong = `wrong-CANARY-${Math.random().toString(36).slice(2)}`;
    const client = await clientFor(stack, 'ws', wrong);
    await expect(client.dispatch(node('wrong', 'echo'))).rejects.toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    await waitFor(() => client.channelState === 'down', 'the refused upgrade');
    const everything = JSON.stringify(logs);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(SERVICE_TOKEN);
  });

  it('a channel dropped mid-flight fails its calls as retryable; retried by request id, each ran once and none is lost', async () => {
    const client = await clientFor(stack, 'ws');
    const requests = [1, 2, 3].map((i) => node(`drop${i}`, 'hang'));
    const calls = requests.map((r) => client.dispatch(r).catch((e: unknown) => e));
    await waitFor(() => requests.every((r) => stack.runs.get(r.requestId) === 1), 'the three tasks running');
    for (const s of stack.channelSockets) s.destroy();
    for (const outcome of await Promise.all(calls)) expect(outcome).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', retryable: true });
    stack.releaseAll();
    // The caller's retry with the same request ids (over HTTP or the reconnected channel).
    const retried = await Promise.all(requests.map((r) => client.dispatch(r)));
    expect(retried.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    for (const r of requests) expect(stack.runs.get(r.requestId)).toBe(1);
    await waitFor(() => client.channelState === 'open', { what: 'the reconnect', timeoutMs: 10_000 });
  });

  it('a closing gateway answers what its channels have in flight (GATEWAY_SHUTDOWN, retryable) instead of dropping it', async () => {
    const own = await startStack();
    try {
      const client = await clientFor(own, 'ws');
      const request = node('shutdown', 'hang');
      const waiting = client.dispatch(request).catch((e: unknown) => e);
      await waitFor(() => own.runs.get(request.requestId) === 1, 'the task running');
      const closed = own.gateway.close({ timeoutMs: 5000 });
      expect(await waiting).toMatchObject({ code: 'GATEWAY_SHUTDOWN', retryable: true });
      own.releaseAll();
      await closed;
      // Before the server closes: the client would reconnect to a server that no longer routes the path.
      await client.close();
    } finally {
      await own.stop();
    }
  });
});
