import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@vespid/protocol';
import { type FakeDispatchGateway, createFakeDispatchGateway } from '@vespid/sdk-dispatch/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DispatchError } from '../errors.js';
import { requestIdFor } from '../request-id.js';
import { type DispatchClient, createDispatchClient, dispatchClientFromEnv } from './dispatch-client.js';
import { DEFAULT_GATEWAY_HTTP_URL, dispatchClientOptionsFromEnv } from './options.js';

const TOKEN = 'svc-token-CANARY-9f3e1d';
const SECRET = 'connector-secret-CANARY-77aa';

function captureLogger(lines: string[]): Logger {
  const push = (obj: object, msg?: string) => lines.push(JSON.stringify({ ...obj, msg }));
  return { debug: push, info: push, warn: push, error: push };
}

async function caught(p: Promise<unknown>): Promise<DispatchError> {
  try {
    await p;
  } catch (err) {
    expect(DispatchError.is(err)).toBe(true);
    return err as DispatchError;
  }
  throw new Error('expected a rejection');
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function setup(
  opts: Partial<Parameters<typeof createFakeDispatchGateway>[0]> = {},
): Promise<{ gw: FakeDispatchGateway; client: DispatchClient; logs: string[] }> {
  const gw = createFakeDispatchGateway({ serviceToken: TOKEN, ...opts });
  const url = await gw.start();
  const logs: string[] = [];
  const client = createDispatchClient({ gatewayHttpUrl: url, serviceToken: TOKEN, logger: captureLogger(logs) });
  closers.push(
    () => gw.close(),
    () => client.close(),
  );
  return { gw, client, logs };
}

const request = (runId = 'run1') => ({
  organizationId: 'org-1',
  requestId: requestIdFor({ runId, nodeId: 'fetch', attempt: 0 }),
  kind: 'connector.action',
  payload: { connectorId: 'http', actionId: 'get', input: {} },
  secret: SECRET,
  timeoutMs: 5000,
});

describe('createDispatchClient', () => {
  it('dispatchAsync sends without waiting (201) and is idempotent per request id', async () => {
    const { gw, client } = await setup();
    const first = await client.dispatchAsync(request());
    expect(first).toEqual({ requestId: 'run1:fetch:0', dispatched: true });
    const again = await client.dispatchAsync(request());
    expect(again).toMatchObject({ requestId: 'run1:fetch:0', dispatched: false, inFlight: true });
    expect(gw.accepted).toHaveLength(1);
    expect(gw.accepted[0]?.hasSecret).toBe(true);
    expect(await client.getResult('run1:fetch:0')).toBeNull();
    gw.complete('run1:fetch:0', { status: 'succeeded', output: { rows: 3 } });
    expect(await client.getResult('run1:fetch:0')).toMatchObject({ requestId: 'run1:fetch:0', status: 'succeeded', output: { rows: 3 } });
    expect(await client.dispatchAsync(request())).toMatchObject({ dispatched: false, cached: true });
  });

  it('dispatch waits for the execution result, as gateway.dispatch() does', async () => {
    const { client } = await setup({
      execute: async () => ({ status: 'failed', error: { code: 'HTTP_REQUEST_FAILED', message: 'boom' } }),
    });
    const res = await client.dispatch(request('run2'));
    expect(res).toEqual({ requestId: 'run2:fetch:0', status: 'failed', error: { code: 'HTTP_REQUEST_FAILED', message: 'boom' } });
  });

  it('dispatch settles only when the result exists; dispatchAsync answers while the node still runs', async () => {
    // No `execute`: a request runs until the test completes it.
    const { gw, client } = await setup();
    expect(await client.dispatchAsync(request('later'))).toEqual({ requestId: 'later:fetch:0', dispatched: true });
    expect(await client.getResult('later:fetch:0')).toBeNull();

    let settled = false;
    const waiting = client.dispatch(request('now')).finally(() => {
      settled = true;
    });
    await vi.waitFor(() => expect(gw.accepted.map((a) => a.requestId)).toContain('now:fetch:0'));
    expect(settled).toBe(false);
    gw.complete('now:fetch:0', { status: 'succeeded', output: { rows: 1 } });
    expect(await waiting).toEqual({ requestId: 'now:fetch:0', status: 'succeeded', output: { rows: 1 } });
  });

  it('maps 503 to NO_AGENT_AVAILABLE (retryable) and 401 to UNAUTHORIZED', async () => {
    const { gw, client } = await setup({ agents: 0 });
    for (const call of [client.dispatch(request()), client.dispatchAsync(request())]) {
      expect(await caught(call)).toMatchObject({ code: 'NO_AGENT_AVAILABLE', retryable: true, httpStatus: 503 });
    }
    const wrong = createDispatchClient({ gatewayHttpUrl: gw.url, serviceToken: 'not-the-token' });
    closers.push(() => wrong.close());
    expect(await caught(wrong.getResult('x:y:0'))).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
  });

  it('reports an unreachable gateway as GATEWAY_UNAVAILABLE (retryable) without leaking the token', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const logs: string[] = [];
    const client = createDispatchClient({ gatewayHttpUrl: `http://127.0.0.1:${port}`, serviceToken: TOKEN, logger: captureLogger(logs) });
    closers.push(() => client.close());
    const err = await caught(client.dispatchAsync(request()));
    expect(err).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', retryable: true });
    const seen = JSON.stringify([err.message, err.toJSON(), logs]);
    expect(seen).not.toContain(TOKEN);
    expect(seen).not.toContain(SECRET);
  });

  it('rejects malformed answers as GATEWAY_RESPONSE_INVALID', async () => {
    const bodies = [
      'not json',
      JSON.stringify({ requestId: 'run1:fetch:0' }),
      JSON.stringify({ requestId: 'other:x:0', dispatched: true }),
    ];
    let i = 0;
    const srv = createServer((_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end(bodies[i++ % bodies.length]));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    });
    const client = createDispatchClient({ gatewayHttpUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, serviceToken: TOKEN });
    closers.push(() => client.close());
    for (let n = 0; n < bodies.length; n++) {
      expect(await caught(client.dispatchAsync(request()))).toMatchObject({ code: 'GATEWAY_RESPONSE_INVALID', retryable: true });
    }
  });

  it('turns an error code its catalogue lacks (a newer gateway) into GATEWAY_RESPONSE_INVALID naming it', async () => {
    const srv = createServer((_req, res) =>
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 'SOME_FUTURE_CODE', message: 'later', retryable: true })),
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    });
    const client = createDispatchClient({ gatewayHttpUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, serviceToken: TOKEN });
    closers.push(() => client.close());
    const err = await caught(client.dispatch(request()));
    expect(err).toMatchObject({ code: 'GATEWAY_RESPONSE_INVALID', retryable: true, httpStatus: 503 });
    expect(err.message).toContain('SOME_FUTURE_CODE: later');
  });

  it('validates the request locally (BAD_REQUEST) without echoing the secret', async () => {
    const { gw, client } = await setup();
    const err = await caught(client.dispatch({ ...request(), kind: 'Not A Kind' }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).not.toContain(SECRET);
    expect(gw.accepted).toHaveLength(0);
  });

  it('honours an abort signal', async () => {
    const { client } = await setup();
    const ac = new AbortController();
    const p = client.dispatch(request('slow'), { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect(await caught(p)).toMatchObject({ code: 'TASK_CANCELLED' });
  });

  it('closes idempotently and refuses calls afterwards', async () => {
    const { client } = await setup();
    await Promise.all([client.close(), client.close()]);
    expect(client.closed).toBe(true);
    expect(client.state).toBe('closed');
    await expect(client.getResult('a:b:0')).rejects.toThrow(/closed/);
  });
});

describe('configuration', () => {
  it('raises GATEWAY_NOT_CONFIGURED naming both variables when the token is missing', () => {
    for (const env of [
      {},
      { GATEWAY_HTTP_URL: 'http://gw:3002' },
      { GATEWAY_HTTP_URL: '', GATEWAY_SERVICE_TOKEN: 't' },
      { GATEWAY_SERVICE_TOKEN: '  ' },
    ]) {
      let err: unknown;
      try {
        dispatchClientFromEnv(env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DispatchError);
      expect((err as DispatchError).code).toBe('GATEWAY_NOT_CONFIGURED');
      expect((err as DispatchError).message).toMatch(/GATEWAY_HTTP_URL/);
      expect((err as DispatchError).message).toMatch(/GATEWAY_SERVICE_TOKEN/);
    }
    expect(() => createDispatchClient({ gatewayHttpUrl: 'http://x', serviceToken: '' })).toThrow(/GATEWAY_SERVICE_TOKEN/);
  });

  it('defaults GATEWAY_HTTP_URL to the runbook value and never echoes the token', () => {
    expect(dispatchClientOptionsFromEnv({ GATEWAY_SERVICE_TOKEN: TOKEN })).toEqual({
      gatewayHttpUrl: DEFAULT_GATEWAY_HTTP_URL,
      serviceToken: TOKEN,
    });
    expect(DEFAULT_GATEWAY_HTTP_URL).toBe('http://localhost:3002');
    let err: unknown;
    try {
      createDispatchClient({ gatewayHttpUrl: 'ftp://nope', serviceToken: TOKEN });
    } catch (e) {
      err = e;
    }
    expect((err as DispatchError).code).toBe('GATEWAY_NOT_CONFIGURED');
    expect((err as DispatchError).message).not.toContain(TOKEN);
  });
});
