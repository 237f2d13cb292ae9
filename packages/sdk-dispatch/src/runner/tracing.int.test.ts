/**
 * One trace links worker → gateway → agent → worker: a real continuation runner (Postgres cursors,
 * BullMQ on Redis) dispatches through the real dispatch client to a real gateway (Redis results) over
 * HTTP, which sends to a real agent runtime over WebSocket; every component traces into one
 * in-memory exporter. Asserts the span tree and its parent links, and that no secret or token is in
 * any span name, attribute, event or status.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { generateToken } from '@vespid/protocol';
import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';
import { type Gateway, createGateway, staticAuthenticator } from '@vespid/sdk-gateway';
import { redisResultStore } from '@vespid/sdk-gateway/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, REDIS_URL, describeWith, uniquePrefix } from '../../../../test/services.js';
import { type DispatchClient, createDispatchClient } from '../client/dispatch-client.js';
import { postgresCursorStore } from '../postgres/postgres-store.js';
import { bullmqQueue, redisResultPush } from '../redis/index.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { ContinuationRunner } from './types.js';

const ORG = 'org-trace';
const SERVICE_TOKEN = `svc-CANARY-${Math.random().toString(36).slice(2)}`;
const SECRET = `secret-CANARY-${Math.random().toString(36).slice(2)}`;
const INPUT = `input-CANARY-${Math.random().toString(36).slice(2)}`;
const OUTPUT = `output-CANARY-${Math.random().toString(36).slice(2)}`;
const AGENT_TOKEN = generateToken(ORG);

await describeWith(['postgres', 'redis'], 'tracing: one trace from the worker through gateway and agent back to the worker', () => {
  const prefix = uniquePrefix('trc').toLowerCase();
  const channel = `${prefix}:results`;
  // #region tracing-provider
  // The application's SDK: a provider with an exporter (in production e.g. a BatchSpanProcessor around
  // an OTLP exporter) and a context manager, so spans started in block()'s caller become its parents.
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  // Each component gets `tracing: true` (the global provider) or this explicit one.
  const tracing = { tracerProvider };
  // #endregion tracing-provider
  const applied: string[] = [];
  let redis: Redis;
  let pool: pg.Pool;
  let gateway: Gateway;
  let server: Server;
  let agent: Agent;
  let client: DispatchClient;
  let runner: ContinuationRunner;

  // Echoes a canary output, and fails (with a message quoting the secret) when asked to.
  const executor: Executor = {
    kind: 'connector.action',
    connectors: ['test'],
    async execute(task, ctx) {
      const { actionId } = task.payload as { actionId: string };
      if (actionId === 'fail') return { status: 'failed', error: { code: 'TEST_FAILED', message: `refused ${ctx.secret}` } };
      return { status: 'succeeded', output: { value: OUTPUT } };
    },
  };

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
    const store = postgresCursorStore({ pool, schema: prefix, table: 'cursors' });
    await store.migrate();
    gateway = createGateway({
      authenticator: staticAuthenticator([{ token: AGENT_TOKEN, agentId: 'agent-t1', organizationId: ORG, tags: [] }]),
      serviceToken: SERVICE_TOKEN,
      resultStore: redisResultStore({ redis, ttlSec: 300, keyPrefix: `${prefix}:results:`, channel, dispatchKeyPrefix: `${prefix}:d:` }),
      tracing,
    });
    server = createServer(gateway.httpHandler);
    gateway.attach(server, { path: '/ws' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    agent = createAgent({
      gatewayWsUrl: `ws://127.0.0.1:${port}/ws`,
      agentToken: AGENT_TOKEN,
      name: 'traced',
      executors: [executor],
      tracing,
    });
    const up = new Promise((r) => agent.on('connected', r));
    await agent.start();
    await up;
    client = createDispatchClient({ gatewayHttpUrl: `http://127.0.0.1:${port}`, serviceToken: SERVICE_TOKEN, tracing });
    runner = createContinuationRunner<pg.PoolClient>({
      client,
      store,
      push: redisResultPush({ connection: REDIS_URL, channel }),
      queue: bullmqQueue({ connection: REDIS_URL, queueName: `${prefix}-q`, concurrency: 4 }),
      pollMs: 60_000,
      tracing,
      onResult: ({ cursor }) => void applied.push(cursor.requestId),
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.close({ timeoutMs: 1000 });
    await client?.close();
    await agent?.close({ timeoutMs: 1000 });
    await gateway?.close({ timeoutMs: 1000 });
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await pool?.query(`DROP SCHEMA IF EXISTS "${prefix}" CASCADE`);
    await pool?.end();
    redis?.disconnect();
    await tracerProvider.shutdown();
    context.disable();
  });

  /** Blocks one node inside a `workflow.run` span (the worker's own) and returns the spans of its trace. */
  async function runNode(runId: string, actionId: string): Promise<ReadableSpan[]> {
    const tracer = tracerProvider.getTracer('worker');
    const traceId = await tracer.startActiveSpan('workflow.run', async (span) => {
      await runner.block({
        organizationId: ORG,
        runId,
        nodeId: 'n1',
        attempt: 0,
        kind: 'connector.action',
        payload: { connectorId: 'test', actionId, input: { value: INPUT } },
        secret: SECRET,
        timeoutMs: 10_000,
      });
      span.end();
      return span.spanContext().traceId;
    });
    const spans = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    await vi.waitFor(() => expect(spans().map((s) => s.name)).toContain('vespid.continuation.apply'), { timeout: 15_000 });
    return spans();
  }

  const one = (spans: ReadableSpan[], name: string) => {
    const found = spans.filter((s) => s.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
  const idOf = (span: ReadableSpan) => span.spanContext().spanId;

  it('links the client dispatch, gateway, agent and continuation spans in one trace with the right parents', async () => {
    const spans = await runNode('run-ok', 'ok');
    const root = one(spans, 'workflow.run');
    const block = one(spans, 'vespid.continuation.block');
    const dispatch = one(spans, 'vespid.dispatch');
    const receive = one(spans, 'vespid.gateway.receive');
    const select = one(spans, 'vespid.gateway.select');
    const send = one(spans, 'vespid.gateway.send');
    const execute = one(spans, 'vespid.agent.execute');
    const executorSpan = one(spans, 'vespid.agent.executor');
    const result = one(spans, 'vespid.gateway.result');
    const apply = one(spans, 'vespid.continuation.apply');
    expect(parentOf(block)).toBe(idOf(root));
    expect(parentOf(dispatch)).toBe(idOf(block));
    expect(parentOf(receive)).toBe(idOf(dispatch));
    expect(parentOf(select)).toBe(idOf(receive));
    expect(parentOf(send)).toBe(idOf(receive));
    expect(parentOf(execute)).toBe(idOf(send));
    expect(parentOf(executorSpan)).toBe(idOf(execute));
    expect(parentOf(result)).toBe(idOf(send));
    expect(parentOf(apply)).toBe(idOf(block));
    // The continuation ran in another async context (a push from Redis): it joined through the cursor.
    expect(applied).toContain('run-ok:n1:0');
    const ids = { 'vespid.request_id': 'run-ok:n1:0', 'vespid.organization_id': ORG, 'vespid.kind': 'connector.action' };
    for (const s of [block, dispatch, receive, select, send, execute, executorSpan, result, apply]) expect(s.attributes).toMatchObject(ids);
    expect(select.attributes).toMatchObject({ 'vespid.agent_id': 'agent-t1', 'vespid.outcome': 'selected' });
    expect(receive.attributes).toMatchObject({ 'vespid.outcome': 'dispatched', 'vespid.route': 'dispatch_async' });
    expect(result.attributes).toMatchObject({ 'vespid.outcome': 'succeeded', 'vespid.agent_id': 'agent-t1' });
    expect(apply.attributes).toMatchObject({ 'vespid.outcome': 'succeeded', 'vespid.agent_id': 'agent-t1', 'vespid.applied': true });
  });

  it('marks a failed node with its error code, and no span carries a secret, token, input or output', async () => {
    const spans = await runNode('run-fail', 'fail');
    for (const name of ['vespid.agent.executor', 'vespid.agent.execute', 'vespid.gateway.result', 'vespid.continuation.apply']) {
      expect(one(spans, name).attributes).toMatchObject({ 'vespid.outcome': 'failed', 'vespid.error_code': 'TEST_FAILED' });
    }
    const everything = JSON.stringify(
      exporter
        .getFinishedSpans()
        .map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links })),
    );
    expect(everything).toContain('run-fail:n1:0');
    for (const canary of [SECRET, SERVICE_TOKEN, AGENT_TOKEN, INPUT, OUTPUT]) expect(everything).not.toContain(canary);
  });
});
