import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import type { GatewayOptions } from './options.js';
import { redisResultStore } from './redis/index.js';
import { type TestAgent, type TestGateway, startTestGateway } from './testing/index.js';

const ORG = 'org-queued';

await describeWith(['redis'], 'queued dispatch over HTTP, WebSocket agents and a Redis result store', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = uniquePrefix('gwqueue');
  let n = 0;
  let seq = 0;
  const rid = () => `qi${++seq}:node:0`;
  let open: TestGateway[] = [];
  const store = (p: string) =>
    redisResultStore({ redis, keyPrefix: `${p}:results:`, dispatchKeyPrefix: `${p}:dispatches:`, channel: `${p}:results` });

  async function start(options: Partial<GatewayOptions> = {}, p = `${prefix}:${++n}`): Promise<TestGateway> {
    const t = await startTestGateway({ resultStore: store(p), ...options });
    open.push(t);
    return t;
  }

  const body = (requestId: string, extra: object = {}) => ({
    organizationId: ORG,
    requestId,
    kind: 'agent.execute',
    payload: { n: requestId },
    queueTimeoutMs: 60_000,
    ...extra,
  });
  const depth = async (t: TestGateway, requestId?: string) =>
    (await t.call('POST', '/internal/v1/explain', { organizationId: ORG, kind: 'agent.execute', ...(requestId ? { requestId } : {}) })).body
      .queue;
  const executes = (a: TestAgent) => a.received.filter((m) => m.type === 'execute').map((m) => (m as { requestId: string }).requestId);

  /** Answers every execute, including queued ones sent right behind hello_ack (before this runs). */
  const respond = (a: TestAgent) => {
    a.autoRespond();
    for (const id of executes(a)) a.send({ type: 'execute_result', requestId: id, status: 'succeeded', output: { echo: { n: id } } });
  };

  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });
  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('dispatch-async answers 202 queued with position and explanation; the explain dry run shows it; an agent connecting runs it', async () => {
    const t = await start();
    const id = rid();
    const first = await t.call('POST', '/internal/v1/dispatch-async', body(id));
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ requestId: id, dispatched: false, queued: true, position: 1, explanation: { connected: 0 } });
    expect(first.body.explanation.message).toMatch(/no agent available/);
    const repeat = await t.call('POST', '/internal/v1/dispatch-async', body(id));
    expect(repeat.status).toBe(202);
    expect(await depth(t, id)).toEqual({ depth: 1, position: 1 });
    const a = await t.agent({ agentId: 'a1', organizationId: ORG, tags: [] });
    respond(a);
    await vi.waitFor(async () => expect((await t.call('GET', `/internal/v1/results/${id}`)).status).toBe(200));
    expect((await t.call('GET', `/internal/v1/results/${id}`)).body).toMatchObject({ status: 'succeeded', output: { echo: { n: id } } });
    expect(executes(a)).toEqual([id]);
    expect(await depth(t)).toEqual({ depth: 0, position: null });
  });

  it('a synchronous dispatch waits for the agent and answers 200; without queueTimeoutMs it is still 503', async () => {
    const t = await start();
    const none = await t.call('POST', '/internal/v1/dispatch', { ...body(rid()), queueTimeoutMs: undefined });
    expect(none).toMatchObject({ status: 503, body: { code: 'NO_AGENT_AVAILABLE' } });
    const id = rid();
    const waiting = t.call('POST', '/internal/v1/dispatch', body(id));
    await vi.waitFor(async () => expect((await depth(t, id)).position).toBe(1));
    const a = await t.agent({ agentId: 'a2', organizationId: ORG, tags: [] });
    respond(a);
    expect(await waiting).toMatchObject({ status: 200, body: { requestId: id, status: 'succeeded' } });
  });

  it('answers 429 QUEUE_FULL beyond orgMaxQueued; the cancel route and a caller hanging up free places', async () => {
    const t = await start({ orgMaxQueued: 2 });
    const [a, b] = [rid(), rid()];
    expect((await t.call('POST', '/internal/v1/dispatch-async', body(a))).status).toBe(202);
    const ac = new AbortController();
    const hangsUp = fetch(`${t.httpUrl}/internal/v1/dispatch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body(b)),
      signal: ac.signal,
    }).catch((err: unknown) => err);
    await vi.waitFor(async () => expect((await depth(t)).depth).toBe(2));
    const full = await t.call('POST', '/internal/v1/dispatch-async', body(rid()));
    expect(full).toMatchObject({ status: 429, body: { code: 'QUEUE_FULL' } });
    ac.abort();
    await hangsUp;
    await vi.waitFor(async () => expect((await depth(t)).depth).toBe(1));
    expect(await t.call('POST', '/internal/v1/cancel', { organizationId: ORG, requestId: a })).toMatchObject({
      status: 200,
      body: { requestId: a, cancelled: true },
    });
    expect((await t.call('POST', '/internal/v1/cancel', { organizationId: ORG, requestId: a })).body.cancelled).toBe(false);
    expect(await depth(t)).toEqual({ depth: 0, position: null });
    const agent = await t.agent({ agentId: 'a3', organizationId: ORG, tags: [] });
    expect(executes(agent)).toEqual([]);
  });

  it('gateway restart with queued requests: the caller re-dispatches the same ids and each runs exactly once', async () => {
    const p = `${prefix}:${++n}`;
    const before = await start({}, p);
    const ids = [rid(), rid(), rid()];
    for (const id of ids) expect((await before.call('POST', '/internal/v1/dispatch-async', body(id))).status).toBe(202);
    await before.close();
    open = open.filter((t) => t !== before);
    const after = await start({}, p);
    // The worker's cursor holds each request: it repeats them with the same ids (twice, as a poll would).
    for (const id of [...ids, ...ids]) expect((await after.call('POST', '/internal/v1/dispatch-async', body(id))).status).toBe(202);
    const a = await after.agent({ agentId: 'a4', organizationId: ORG, tags: [] }, { capabilities: { maxInFlight: 1 } });
    respond(a);
    for (const id of ids) await vi.waitFor(async () => expect((await after.call('GET', `/internal/v1/results/${id}`)).status).toBe(200));
    // Repeats after the results are answered from the store, never sent again.
    for (const id of ids) expect((await after.call('POST', '/internal/v1/dispatch-async', body(id))).body).toMatchObject({ cached: true });
    expect(executes(a)).toEqual(ids);
  });
});
