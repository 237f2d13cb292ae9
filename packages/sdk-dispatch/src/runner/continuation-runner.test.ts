import type { Logger } from '@vespid/protocol';
import { type FakeDispatchGateway, createFakeDispatchGateway } from '@vespid/sdk-dispatch/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type DispatchClient, createDispatchClient, dispatchClientFromEnv } from '../client/dispatch-client.js';
import { memoryCursorStore } from '../store/memory-store.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { ContinuationRunner } from './types.js';
import type { ContinuationRunnerOptions, ResultSource } from './options.js';
import type { MemoryTx } from '../store/memory-store.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const TOKEN = 'svc-CANARY-token-5521';
const SECRET = 'secret-CANARY-value-0099';

interface Event {
  type: string;
  runId: string;
  nodeId: string;
  code?: string | undefined;
  source?: ResultSource;
  output?: unknown;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function logger(lines: string[]): Logger {
  const push = (obj: object, msg?: string) => lines.push(JSON.stringify({ ...obj, msg }));
  return { debug: push, info: push, warn: push, error: push };
}

async function harness(gwOpts: Partial<Parameters<typeof createFakeDispatchGateway>[0]> = {}) {
  const gw: FakeDispatchGateway = createFakeDispatchGateway({ serviceToken: TOKEN, ...gwOpts });
  await gw.start();
  const client: DispatchClient = createDispatchClient({ gatewayHttpUrl: gw.url, serviceToken: TOKEN });
  const store = memoryCursorStore();
  const events: Event[] = [];
  const logs: string[] = [];
  closers.push(
    () => gw.close(),
    () => client.close(),
  );
  const runners: ContinuationRunner[] = [];
  const makeRunner = async (over: Partial<ContinuationRunnerOptions<MemoryTx>> = {}) => {
    const runner = createContinuationRunner<MemoryTx>({
      client,
      store,
      pollMs: 20,
      deadlineGraceMs: 0,
      logger: logger(logs),
      onBlocked: ({ cursor, tx }) =>
        tx.onCommit(() => events.push({ type: 'node_dispatched', runId: cursor.runId, nodeId: cursor.nodeId })),
      onResult: ({ cursor, result, tx }) =>
        tx.onCommit(() =>
          events.push({
            type: `node_${result.status}`,
            runId: cursor.runId,
            nodeId: cursor.nodeId,
            code: result.error?.code,
            source: result.source,
            output: result.output,
          }),
        ),
      ...over,
    });
    runners.push(runner);
    closers.push(() => runner.close());
    await runner.start();
    return runner;
  };
  return { gw, client, store, events, logs, makeRunner };
}

const node = (runId: string, over: object = {}) => ({
  organizationId: 'org-1',
  runId,
  nodeId: 'fetch',
  attempt: 0,
  kind: 'connector.action',
  payload: { connectorId: 'http', actionId: 'get', input: { url: 'http://x' } },
  secret: SECRET,
  timeoutMs: 5000,
  ...over,
});

describe('createContinuationRunner (in-process queue, polling)', () => {
  it('persists the cursor, dispatches, and applies the polled result exactly once', async () => {
    const h = await harness();
    const runner = await h.makeRunner();
    const blocked = await runner.block(node('r1'));
    expect(blocked).toMatchObject({ requestId: 'r1:fetch:0', created: true, state: 'blocked' });
    expect(blocked.cursor.dispatchedAt).not.toBeNull();
    h.gw.complete('r1:fetch:0', { status: 'succeeded', output: { rows: 2 } });
    // A completed cursor is never polled again: once it is, the event list is final.
    await waitFor(async () => (await h.store.get('r1:fetch:0'))?.status === 'completed');
    expect(h.events).toEqual([
      { type: 'node_dispatched', runId: 'r1', nodeId: 'fetch' },
      { type: 'node_succeeded', runId: 'r1', nodeId: 'fetch', code: undefined, source: 'poll', output: { rows: 2 } },
    ]);
    expect((await h.store.get('r1:fetch:0'))?.status).toBe('completed');
    const again = await runner.block(node('r1'));
    expect(again).toMatchObject({ created: false, state: 'completed' });
    expect(h.gw.accepted).toHaveLength(1);
    const everything = JSON.stringify([h.logs, h.events, await h.store.get('r1:fetch:0')]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(TOKEN);
  });

  it('reports the agent the gateway chose as `dispatched` once, and not at all when the answer names none', async () => {
    const h = await harness({ agent: { agentId: 'agent-7', agentName: 'edge-7' } });
    const seen: Array<{ requestId: string; agentId: string; agentName?: string | undefined }> = [];
    const runner = await h.makeRunner();
    runner.on('dispatched', ({ cursor, agentId, agentName }) => void seen.push({ requestId: cursor.requestId, agentId, agentName }));
    await runner.block(node('r9'));
    await runner.block(node('r9'));
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([{ requestId: 'r9:fetch:0', agentId: 'agent-7', agentName: 'edge-7' }]);
    h.gw.complete('r9:fetch:0', { status: 'succeeded' });
    await waitFor(() => h.events.length === 2);
    expect(seen).toHaveLength(1);

    const anonymous = await harness();
    const none: unknown[] = [];
    const other = await anonymous.makeRunner();
    other.on('dispatched', (e) => void none.push(e));
    await other.block(node('r10'));
    anonymous.gw.complete('r10:fetch:0', { status: 'succeeded' });
    await waitFor(() => anonymous.events.length === 2);
    expect(none).toEqual([]);
  });

  it('fails the node with NODE_EXECUTION_TIMEOUT at the deadline', async () => {
    const h = await harness();
    const runner = await h.makeRunner();
    await runner.block(node('r2', { timeoutMs: 60 }));
    await waitFor(() => h.events.length === 2);
    expect(h.events[1]).toMatchObject({ type: 'node_failed', code: 'NODE_EXECUTION_TIMEOUT', source: 'timeout' });
  });

  it('turns a NO_AGENT_AVAILABLE refusal into node_failed, or retries it when asked to', async () => {
    const h = await harness({ agents: 0 });
    const runner = await h.makeRunner({ resolveSecret: () => SECRET });
    await runner.block(node('r3'));
    expect(h.events.map((e) => [e.type, e.code])).toEqual([
      ['node_dispatched', undefined],
      ['node_failed', 'NO_AGENT_AVAILABLE'],
    ]);

    const patient = await h.makeRunner({ retryNoAgent: true, resolveSecret: () => SECRET });
    await patient.block(node('r4'));
    expect((await h.store.get('r4:fetch:0'))?.dispatchedAt).toBeNull();
    h.gw.agents = 1;
    await waitFor(() => h.gw.accepted.length === 1);
    expect(h.gw.accepted[0]).toMatchObject({ requestId: 'r4:fetch:0', hasSecret: true });
    h.gw.complete('r4:fetch:0', { status: 'succeeded' });
    await waitFor(() => h.events.some((e) => e.runId === 'r4' && e.type === 'node_succeeded'));
  });

  it('applies a racing duplicate delivery once', async () => {
    const h = await harness();
    const runner = await h.makeRunner({ pollMs: 5 });
    await runner.block(node('r5'));
    const stored = h.gw.complete('r5:fetch:0', { status: 'succeeded', output: 1 }, 'org-1');
    const wins = await Promise.all(Array.from({ length: 20 }, () => runner.deliver(stored)));
    await waitFor(async () => (await h.store.get('r5:fetch:0'))?.status === 'completed');
    const terminal = h.events.filter((e) => e.type !== 'node_dispatched');
    expect(terminal).toHaveLength(1);
    expect(wins.filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(await runner.deliver({ ...stored, organizationId: 'other-org' })).toBe(false);
  });

  it('retries onResult after it throws and applies once', async () => {
    const h = await harness();
    let calls = 0;
    const runner = await h.makeRunner({
      onResult: ({ cursor, tx }) => {
        calls++;
        if (calls === 1) throw new Error('database hiccup');
        tx.onCommit(() => h.events.push({ type: 'node_succeeded', runId: cursor.runId, nodeId: cursor.nodeId }));
      },
    });
    await runner.block(node('r6'));
    h.gw.complete('r6:fetch:0', { status: 'succeeded' });
    await waitFor(() => h.events.some((e) => e.type === 'node_succeeded'));
    expect(calls).toBe(2);
    expect(h.events.filter((e) => e.type === 'node_succeeded')).toHaveLength(1);
  });

  it('resumes a run after a restart, including one that crashed before dispatching', async () => {
    const h = await harness();
    const first = await h.makeRunner({ pollMs: 60_000 });
    await first.block(node('r7'));
    await first.close();
    h.gw.complete('r7:fetch:0', { status: 'succeeded', output: 'late' });
    // A process died after persisting this cursor but before the gateway saw the request.
    await h.store.insert({
      requestId: 'r8:fetch:0',
      runId: 'r8',
      nodeId: 'fetch',
      attempt: 0,
      organizationId: 'org-1',
      request: { kind: 'connector.action', payload: { connectorId: 'http', actionId: 'get', input: {} }, timeoutMs: 5000 },
      deadlineAt: Date.now() + 5000,
      createdAt: Date.now(),
    });
    expect(first.closed).toBe(true);
    await h.makeRunner({ pollMs: 20, resolveSecret: () => SECRET });
    await waitFor(() => h.events.some((e) => e.runId === 'r7' && e.type === 'node_succeeded'));
    await waitFor(() => h.gw.accepted.some((a) => a.requestId === 'r8:fetch:0'));
    expect(h.gw.accepted.find((a) => a.requestId === 'r8:fetch:0')?.hasSecret).toBe(true);
    h.gw.complete('r8:fetch:0', { status: 'failed', error: { code: 'HTTP_REQUEST_FAILED', message: 'x' } });
    await waitFor(() => h.events.some((e) => e.runId === 'r8' && e.type === 'node_failed'));
    expect(h.events.filter((e) => e.type !== 'node_dispatched').map((e) => e.runId)).toEqual(['r7', 'r8']);
  });

  it('fails a node with GATEWAY_NOT_CONFIGURED when the worker env has no gateway', async () => {
    const h = await harness();
    const unconfigured = dispatchClientFromEnv({ GATEWAY_HTTP_URL: 'http://localhost:3002' }, { unconfigured: 'fail-calls' });
    const runner = await h.makeRunner({ client: unconfigured });
    const res = await runner.block(node('r10'));
    expect(res.state).toBe('completed');
    expect(h.events.map((e) => [e.type, e.code, e.source])).toEqual([
      ['node_dispatched', undefined, undefined],
      ['node_failed', 'GATEWAY_NOT_CONFIGURED', 'dispatch'],
    ]);
    await unconfigured.close();
  });

  it('refuses work before start and after close, and validates input', async () => {
    const h = await harness();
    const idle = createContinuationRunner({ client: h.client, store: h.store, onResult: () => {} });
    await expect(idle.block(node('r9'))).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    const runner = await h.makeRunner();
    await expect(runner.block(node('r9', { kind: 'BAD KIND' }))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(runner.block(node('r9', { attempt: -1 }))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await runner.close();
    await runner.close();
    expect(runner.state).toBe('closed');
    await expect(runner.block(node('r9'))).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(() => createContinuationRunner({ client: h.client, store: h.store, onResult: () => {}, pollMs: 0 })).toThrow(/pollMs/);
  });
});
