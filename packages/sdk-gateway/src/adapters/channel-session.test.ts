import { type ChannelServerFrame, ChannelServerFrameSchema, CloseCode, type StoredResult, noopLogger } from '@vespid/protocol';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { ChannelSession } from './channel-session.js';
import { type InternalCore, handleInternal } from './http-adapter.js';

const TOKEN = 'svc-channel-CANARY';
const request = (requestId: string) => ({ organizationId: 'o1', requestId, kind: 'noop', payload: {} });

/** A core whose dispatches settle when the test says so; records each call's abort signal. */
function fakeCore() {
  const calls = new Map<string, { resolve: (r: StoredResult) => void; reject: (e: unknown) => void; signal?: AbortSignal }>();
  const core: InternalCore = {
    serviceToken: TOKEN,
    logger: noopLogger,
    dispatch: (req, opts) =>
      new Promise<StoredResult>((resolve, reject) => {
        calls.set((req as { requestId: string }).requestId, { resolve, reject, ...(opts?.signal ? { signal: opts.signal } : {}) });
      }),
    dispatchAsync: async (req) => ({ requestId: (req as { requestId: string }).requestId, dispatched: true, agentId: 'a1' }),
    getResult: async () => null,
    explain: () => {
      throw new Error('not used');
    },
    listSessions: () => [],
    cancelQueued: () => false,
  };
  const finish = (requestId: string) =>
    calls.get(requestId)?.resolve({ requestId, organizationId: 'o1', status: 'succeeded', output: requestId, completedAt: 1 });
  return { core, calls, finish };
}

/** A connection that records frames and can pretend its send buffer is full. */
function fakeConnection() {
  const frames: ChannelServerFrame[] = [];
  const state = { buffered: 0, paused: false, closed: undefined as { code: number; reason: string } | undefined };
  let drained: (() => void) | undefined;
  return {
    frames,
    state,
    drain: () => {
      state.buffered = 0;
      drained?.();
    },
    conn: {
      remoteAddress: '127.0.0.1',
      send: (text: string) => frames.push(ChannelServerFrameSchema.parse(JSON.parse(text))),
      bufferedAmount: () => state.buffered,
      pause: () => {
        state.paused = true;
      },
      resume: () => {
        state.paused = false;
      },
      onceDrained: (l: () => void) => {
        drained = l;
      },
      close: (code: number, reason: string) => {
        state.closed = { code, reason };
      },
    },
  };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

function setup(maxInFlight = 8) {
  const f = fakeCore();
  const c = fakeConnection();
  const session = new ChannelSession(c.conn, { core: f.core, logger: noopLogger, maxInFlight, highWaterBytes: 1000 });
  session.open();
  const send = (frame: object) => session.receive(JSON.stringify(frame));
  return { ...f, ...c, session, send };
}

describe('dispatch channel session', () => {
  it('announces the protocol and its bound, then answers out of order, matched by id', async () => {
    const { frames, send, finish } = setup();
    expect(frames[0]).toEqual({ type: 'ready', protocol: 1, maxInFlight: 8 });
    send({ type: 'dispatch', id: 'a', request: request('r:a:0') });
    send({ type: 'dispatch', id: 'b', request: request('r:b:0') });
    send({ type: 'dispatch_async', id: 'c', request: request('r:c:0') });
    await settle();
    finish('r:b:0');
    await settle();
    finish('r:a:0');
    await settle();
    expect(frames.slice(1)).toEqual([
      { type: 'accepted', id: 'c', status: 201, body: { requestId: 'r:c:0', dispatched: true, agentId: 'a1' } },
      { type: 'result', id: 'b', body: { requestId: 'r:b:0', status: 'succeeded', output: 'r:b:0' } },
      { type: 'result', id: 'a', body: { requestId: 'r:a:0', status: 'succeeded', output: 'r:a:0' } },
    ]);
  });

  it('answers an invalid request and a failed dispatch with the HTTP route’s status and body', async () => {
    const { frames, send, calls, core } = setup();
    const bad = { ...request('r:bad:0'), timeoutMs: -1 };
    send({ type: 'dispatch', id: '1', request: bad });
    send({ type: 'dispatch', id: '2', request: request('r:x:0') });
    await settle();
    calls.get('r:x:0')?.reject(new GatewayError('NO_AGENT_AVAILABLE', 'no agent available for org o1'));
    await settle();
    const http = await handleInternal(core, { method: 'POST', url: '/internal/v1/dispatch', authorization: `Bearer ${TOKEN}`, body: bad });
    expect(frames.slice(1)).toEqual([
      { type: 'error', id: '1', status: http.status, body: http.body },
      { type: 'error', id: '2', status: 503, body: expect.objectContaining({ code: 'NO_AGENT_AVAILABLE', retryable: true }) },
    ]);
    expect(http.status).toBe(400);
  });

  it('answers requests over its in-flight bound with retryable RATE_LIMITED, and takes new ones once answered', async () => {
    const { frames, send, finish } = setup(2);
    send({ type: 'dispatch', id: '1', request: request('r:1:0') });
    send({ type: 'dispatch', id: '2', request: request('r:2:0') });
    send({ type: 'dispatch', id: '3', request: request('r:3:0') });
    await settle();
    expect(frames.at(-1)).toMatchObject({ type: 'error', id: '3', status: 429, body: { code: 'RATE_LIMITED', retryable: true } });
    finish('r:1:0');
    await settle();
    send({ type: 'dispatch', id: '4', request: request('r:4:0') });
    await settle();
    expect(frames.filter((f) => f.type === 'error')).toHaveLength(1);
  });

  it('stops reading while its answers are not being written, and reads again once drained', async () => {
    const { send, finish, state, drain } = setup();
    send({ type: 'dispatch', id: '1', request: request('r:1:0') });
    await settle();
    state.buffered = 5000;
    finish('r:1:0');
    await settle();
    expect(state.paused).toBe(true);
    drain();
    expect(state.paused).toBe(false);
  });

  it('a cancel frame or the channel closing withdraws the request, as an HTTP client hanging up', async () => {
    const { frames, send, calls, session } = setup();
    send({ type: 'dispatch', id: '1', request: request('r:1:0') });
    send({ type: 'dispatch', id: '2', request: request('r:2:0') });
    await settle();
    send({ type: 'cancel', id: '1' });
    expect(calls.get('r:1:0')?.signal?.aborted).toBe(true);
    expect(calls.get('r:2:0')?.signal?.aborted).toBe(false);
    session.closed();
    expect(calls.get('r:2:0')?.signal?.aborted).toBe(true);
    expect(frames).toHaveLength(1);
  });

  it('on drain, refuses new requests with GATEWAY_SHUTDOWN, answers those in flight, then closes 1001', async () => {
    const { frames, send, session, finish, state } = setup();
    send({ type: 'dispatch', id: '1', request: request('r:1:0') });
    await settle();
    session.drain('gateway shutting down');
    send({ type: 'dispatch', id: '2', request: request('r:2:0') });
    expect(state.closed).toBeUndefined();
    finish('r:1:0');
    await settle();
    expect(frames.slice(1).map((f) => [f.type, 'id' in f ? f.id : '', f.type === 'error' ? f.body.code : ''])).toEqual([
      ['drain', '', ''],
      ['error', '2', 'GATEWAY_SHUTDOWN'],
      ['result', '1', ''],
    ]);
    expect(state.closed?.code).toBe(CloseCode.GoingAway);
  });

  it('closes 4400 on a malformed frame or a reused id', async () => {
    const a = setup();
    a.session.receive('{not json');
    expect(a.state.closed?.code).toBe(CloseCode.ProtocolViolation);
    const b = setup();
    b.send({ type: 'dispatch', id: '1', request: request('r:1:0') });
    b.send({ type: 'dispatch', id: '1', request: request('r:2:0') });
    expect(b.state.closed).toMatchObject({ code: CloseCode.ProtocolViolation, reason: 'duplicate id 1' });
  });
});
