import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ChannelClientFrame, ChannelClientFrameSchema, type Logger, ROUTES, type ChannelServerFrame } from '@vespid/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../../../../test/support/wait-for.js';
import { type DispatchClient, createDispatchClient } from './dispatch-client.js';

const TOKEN = 'svc-channel-client-CANARY-5d1';

/**
 * A gateway stand-in: the two dispatch routes over HTTP (answering `output: 'http'`) and the channel,
 * whose frames the test answers by hand. `upgrade` decides what an upgrade gets.
 */
async function standIn(options: { upgrade?: 'accept' | 404 | 'hang'; maxInFlight?: number } = {}) {
  const httpCalls: string[] = [];
  const frames: ChannelClientFrame[] = [];
  const sockets: WebSocket[] = [];
  const closes: number[] = [];
  const hung: Duplex[] = [];
  const srv = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'UNAUTHORIZED', message: 'missing or invalid service token' }));
        return;
      }
      const body = JSON.parse(text) as { requestId: string };
      httpCalls.push(body.requestId);
      const answer =
        req.url === ROUTES.dispatch
          ? { requestId: body.requestId, status: 'succeeded', output: 'http' }
          : { requestId: body.requestId, dispatched: true };
      res.writeHead(req.url === ROUTES.dispatch ? 200 : 201, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  srv.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const mode = options.upgrade ?? 'accept';
    if (mode === 'hang') {
      hung.push(socket);
      return;
    }
    if (mode === 404 || req.headers.authorization !== `Bearer ${TOKEN}`) {
      const status = mode === 404 ? '404 Not Found' : '401 Unauthorized';
      socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data) => frames.push(ChannelClientFrameSchema.parse(JSON.parse(String(data)))));
      ws.on('close', (code) => closes.push(code));
      ws.send(JSON.stringify({ type: 'ready', protocol: 1, maxInFlight: options.maxInFlight ?? 100 }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const reply = (frame: ChannelServerFrame) => sockets.at(-1)?.send(JSON.stringify(frame));
  /** Answers a `dispatch` frame as the route's 200 would. */
  const succeed = (f: ChannelClientFrame, output: unknown = 'ws') => {
    if (f.type === 'cancel') throw new Error('not a request');
    const requestId = (f.request as { requestId: string }).requestId;
    reply({ type: 'result', id: f.id, body: { requestId, status: 'succeeded', output } });
  };
  return {
    url,
    httpCalls,
    frames,
    sockets,
    closes,
    reply,
    succeed,
    close: async () => {
      for (const s of sockets) s.terminate();
      // Upgrade sockets left unanswered are no longer the server's: closeAllConnections misses them.
      for (const s of hung) s.destroy();
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of closers.splice(0).reverse()) await c();
});

const logs: string[] = [];
const watchers = new Set<(line: string) => void>();
const log = (o: object, m?: string) => {
  const line = JSON.stringify({ ...o, m });
  logs.push(line);
  for (const w of watchers) w(line);
};
const logger: Logger = { debug: log, info: log, warn: log, error: log };
/** Resolves when the client logs a line containing `text` (an event, so it works under fake timers). */
const logged = (text: string) =>
  new Promise<void>((resolve) => {
    const w = (line: string) => {
      if (!line.includes(text)) return;
      watchers.delete(w);
      resolve();
    };
    watchers.add(w);
  });

async function setup(options: Parameters<typeof standIn>[0] = {}, token = TOKEN) {
  const gw = await standIn(options);
  const client = createDispatchClient({ gatewayHttpUrl: gw.url, serviceToken: token, logger });
  closers.push(gw.close, () => client.close({ timeoutMs: 500 }));
  return { gw, client };
}

const req = (id: string, over: object = {}) => ({ organizationId: 'o1', requestId: `run:${id}:0`, kind: 'noop', payload: {}, ...over });

/** Opens the channel: the first call goes over HTTP while it connects. */
async function opened(client: DispatchClient) {
  await client.dispatch(req('warm'));
  await waitFor(() => client.channelState === 'open', 'the channel to open');
}

describe('dispatch client over the channel', () => {
  it('multiplexes concurrent dispatches and matches answers that come back out of order', async () => {
    const { gw, client } = await setup();
    await opened(client);
    const a = client.dispatch(req('a'));
    const b = client.dispatchAsync(req('b'));
    const c = client.dispatch(req('c'));
    await waitFor(() => gw.frames.length === 3, 'three frames');
    const [fa, fb, fc] = gw.frames as [ChannelClientFrame, ChannelClientFrame, ChannelClientFrame];
    gw.succeed(fc, 'C');
    gw.reply({ type: 'accepted', id: fb.id, status: 202, body: { requestId: 'run:b:0', dispatched: false, queued: true, position: 1 } });
    gw.succeed(fa, 'A');
    expect(await a).toEqual({ requestId: 'run:a:0', status: 'succeeded', output: 'A' });
    expect(await b).toEqual({ requestId: 'run:b:0', dispatched: false, queued: true, position: 1 });
    expect(await c).toEqual({ requestId: 'run:c:0', status: 'succeeded', output: 'C' });
    expect(gw.httpCalls).toEqual(['run:warm:0']);
  });

  it('turns an error frame into the same DispatchError as the HTTP route’s answer', async () => {
    const { gw, client } = await setup();
    await opened(client);
    const call = client.dispatch(req('x'));
    await waitFor(() => gw.frames[0]);
    gw.reply({ type: 'error', id: gw.frames[0]!.id, status: 503, body: { code: 'NO_AGENT_AVAILABLE', message: `no agent ${TOKEN}` } });
    const err = await call.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_AGENT_AVAILABLE', retryable: true, httpStatus: 503 });
    expect(JSON.stringify([String(err), logs])).not.toContain(TOKEN);
  });

  it('falls back to HTTP when the gateway has no channel (404), and asks again minutes later', async () => {
    const { gw, client } = await setup({ upgrade: 404 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const refused = logged('the gateway has no dispatch channel');
    expect(await client.dispatch(req('one'))).toMatchObject({ output: 'http' });
    await refused;
    expect(client.channelState).toBe('down');
    expect(await client.dispatch(req('two'))).toMatchObject({ output: 'http' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.channelState).toBe('down');
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(client.channelState).toBe('connecting');
    expect(gw.httpCalls).toEqual(['run:one:0', 'run:two:0']);
  });

  it('never stalls a dispatch on a server that does not answer the upgrade', async () => {
    const { gw, client } = await setup({ upgrade: 'hang' });
    for (const id of ['a', 'b']) expect(await client.dispatch(req(id))).toMatchObject({ output: 'http' });
    expect(client.channelState).toBe('connecting');
    expect(gw.httpCalls).toHaveLength(2);
  });

  it('fails a dispatch in flight when the channel drops with retryable GATEWAY_UNAVAILABLE, sends it nowhere else, and reconnects', async () => {
    const { gw, client } = await setup();
    await opened(client);
    const call = client.dispatch(req('lost'));
    await waitFor(() => gw.frames.length === 1);
    // The reconnect's backoff timer is created when the socket drops: fake from here.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    gw.sockets[0]?.terminate();
    await expect(call).rejects.toMatchObject({ code: 'GATEWAY_UNAVAILABLE', retryable: true });
    expect(client.channelState).toBe('down');
    // Not resent over HTTP (nor over the next channel): the caller decides, with the same request id.
    expect(gw.httpCalls).toEqual(['run:warm:0']);
    expect(await client.dispatch(req('meanwhile'))).toMatchObject({ output: 'http' });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(client.channelState).toBe('connecting');
    vi.useRealTimers();
    await waitFor(() => client.channelState === 'open', 'the reconnect');
    expect(gw.sockets).toHaveLength(2);
    expect(gw.frames.filter((f) => f.type === 'dispatch')).toHaveLength(1);
  });

  it('sends over HTTP what exceeds the gateway’s in-flight bound', async () => {
    const { gw, client } = await setup({ maxInFlight: 1 });
    await opened(client);
    const first = client.dispatch(req('first'));
    expect(await client.dispatch(req('second'))).toMatchObject({ output: 'http' });
    await waitFor(() => gw.frames[0]);
    gw.succeed(gw.frames[0]!);
    expect(await first).toMatchObject({ output: 'ws' });
  });

  it('an aborted call rejects TASK_CANCELLED and tells the gateway (cancel frame); a late answer is ignored', async () => {
    const { gw, client } = await setup();
    await opened(client);
    const ac = new AbortController();
    const call = client.dispatch(req('gone'), { signal: ac.signal });
    await waitFor(() => gw.frames[0]);
    ac.abort();
    await expect(call).rejects.toMatchObject({ code: 'TASK_CANCELLED' });
    await waitFor(() => gw.frames[1]);
    expect(gw.frames[1]).toEqual({ type: 'cancel', id: gw.frames[0]!.id });
    gw.succeed(gw.frames[0]!);
    const after = client.dispatch(req('after'));
    await waitFor(() => gw.frames[2]);
    gw.succeed(gw.frames[2]!, 'after');
    expect(await after).toMatchObject({ requestId: 'run:after:0', output: 'after' });
  });

  it('waits no longer than the call’s timeout: GATEWAY_UNAVAILABLE (retryable) and a cancel frame', async () => {
    const { gw, client } = await setup();
    await opened(client);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const call = client.dispatchAsync(req('slow'));
    const outcome = call.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await outcome).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', retryable: true });
    vi.useRealTimers();
    await waitFor(() => gw.frames.some((f) => f.type === 'cancel'), 'the cancel frame');
  });

  it('on drain, sends new calls over HTTP and still takes the answers in flight', async () => {
    const { gw, client } = await setup();
    await opened(client);
    const inFlight = client.dispatch(req('inflight'));
    await waitFor(() => gw.frames[0]);
    gw.reply({ type: 'drain', reason: 'gateway shutting down' });
    await waitFor(() => client.channelState === 'draining');
    expect(await client.dispatch(req('new'))).toMatchObject({ output: 'http' });
    gw.succeed(gw.frames[0]!);
    expect(await inFlight).toMatchObject({ output: 'ws' });
  });

  it('close() closes the channel cleanly (1000)', async () => {
    const { gw, client } = await setup();
    await opened(client);
    await client.close();
    await waitFor(() => gw.closes[0]);
    expect(gw.closes).toEqual([1000]);
    expect(client.channelState).toBe('closed');
  });

  it('with a wrong token the upgrade is refused and the call gets the HTTP route’s UNAUTHORIZED; the token is never logged', async () => {
    const { client } = await setup({}, 'wrong-token-CANARY');
    logs.length = 0;
    await expect(client.dispatch(req('w'))).rejects.toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    await waitFor(() => client.channelState === 'down');
    expect(JSON.stringify(logs)).not.toContain('wrong-token-CANARY');
  });
});
