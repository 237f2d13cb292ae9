import type { Logger } from '@vespid/protocol';
import { type FakeDispatchGateway, createFakeDispatchGateway } from '@vespid/sdk-dispatch/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDispatchClient } from '../client/dispatch-client.js';
import { DispatchError } from '../errors.js';
import { type MemoryTx, memoryCursorStore } from '../store/memory-store.js';
import type { CursorStore } from '../store/cursor.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { AppliedEvent, DispatchedEvent } from './options.js';
import type { ContinuationRunner } from './types.js';

const TOKEN = 'svc-token-events';
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function setup(): Promise<{ gw: FakeDispatchGateway; runner: ContinuationRunner; store: CursorStore<MemoryTx>; warnings: string[] }> {
  const gw = createFakeDispatchGateway({ serviceToken: TOKEN, agent: { agentId: 'agent-1', agentName: 'edge-1' } });
  const client = createDispatchClient({ gatewayHttpUrl: await gw.start(), serviceToken: TOKEN });
  const warnings: string[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, warn: (_o, msg) => void warnings.push(msg ?? ''), error: () => {} };
  const store = memoryCursorStore();
  const runner = createContinuationRunner<MemoryTx>({
    client,
    store,
    pollMs: 20,
    logger,
    onResult: () => undefined,
  });
  closers.push(
    () => gw.close(),
    () => client.close(),
    () => runner.close(),
  );
  await runner.start();
  return { gw, runner, store, warnings };
}

const node = (runId: string) => ({
  organizationId: 'org-1',
  runId,
  nodeId: 'n',
  attempt: 0,
  kind: 'connector.action',
  payload: { connectorId: 'http' },
  timeoutMs: 5000,
});

describe('continuation runner events: on()', () => {
  it('emits dispatched then applied to typed listeners; the returned function and off() unsubscribe', async () => {
    const { gw, runner, store } = await setup();
    const seen: string[] = [];
    const applied: AppliedEvent[] = [];
    const dispatched: DispatchedEvent[] = [];
    runner.on('dispatched', (e) => {
      dispatched.push(e);
      seen.push(`dispatched:${e.cursor.requestId}`);
    });
    const stopApplied = runner.on('applied', (e) => {
      applied.push(e);
      seen.push(`applied:${e.cursor.requestId}:${e.result.status}`);
    });
    const removed = () => seen.push('removed listener ran');
    runner.on('applied', removed);
    runner.off('applied', removed);

    await runner.block(node('r1'));
    gw.complete('r1:n:0', { status: 'succeeded', output: 7 });
    await vi.waitFor(() => expect(seen).toEqual(['dispatched:r1:n:0', 'applied:r1:n:0:succeeded']));
    expect(dispatched[0]).toMatchObject({ agentId: 'agent-1', agentName: 'edge-1' });
    expect(applied[0]?.result).toMatchObject({ output: 7, source: 'poll' });

    stopApplied();
    await runner.block(node('r2'));
    gw.complete('r2:n:0', { status: 'succeeded' });
    await vi.waitFor(async () => expect((await store.get('r2:n:0'))?.status).toBe('completed'));
    expect(seen).toContain('dispatched:r2:n:0');
    expect(seen.filter((s) => s.startsWith('applied:'))).toEqual(['applied:r1:n:0:succeeded']);
  });

  it('a throwing or rejecting listener is logged and the result is still applied; close() waits for async listeners', async () => {
    const { gw, runner, warnings } = await setup();
    let finishWrite: () => void = () => {};
    let wrote = false;
    runner.on('dispatched', () => {
      throw new Error('listener bug');
    });
    runner.on('applied', () => Promise.reject(new Error('async listener bug')));
    runner.on('applied', async () => {
      // A listener writing a run event: close() must not cut it off.
      await new Promise<void>((resolve) => {
        finishWrite = resolve;
      });
      wrote = true;
    });
    await runner.block(node('r3'));
    gw.complete('r3:n:0', { status: 'failed', error: { code: 'HTTP_REQUEST_FAILED', message: 'x' } });
    await vi.waitFor(() => expect(warnings.filter((w) => w === 'runner event listener failed')).toHaveLength(2));
    const closing = runner.close();
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await vi.waitFor(() => expect(runner.state).toBe('closing'));
    expect(closed).toBe(false);
    finishWrite();
    await closing;
    expect(wrote).toBe(true);
  });
});

describe('continuation runner options removed in 0.2', () => {
  const base = () => ({
    client: createDispatchClient({ gatewayHttpUrl: 'http://127.0.0.1:9', serviceToken: 't' }),
    store: memoryCursorStore(),
    onResult: () => undefined,
  });
  it.each([
    ['redis', { redis: 'redis://127.0.0.1:6379' }, /bullmqQueue.*redisResultPush/],
    ['channel', { channel: 'gateway:results' }, /redisResultPush/],
    ['onApplied', { onApplied: () => {} }, /runner\.on\('applied'/],
    ['onQueued', { onQueued: () => {} }, /runner\.on\('queued'/],
    ['onDispatched', { onDispatched: () => {} }, /runner\.on\('dispatched'/],
    ['push: boolean', { push: true }, /ResultPush/],
  ])('refuses %s with a BAD_REQUEST that names the replacement', async (_name, removed, message) => {
    const options = base();
    closers.push(() => options.client.close());
    let err: unknown;
    try {
      createContinuationRunner({ ...options, ...(removed as object) });
    } catch (e) {
      err = e;
    }
    expect(DispatchError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(message) });
  });
});
