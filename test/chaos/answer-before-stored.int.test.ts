/**
 * The gateway answers a waiting caller while the agent's result is still being written to Redis, and
 * acks the agent only once it is stored. kill -9 of the gateway in that window, on real processes
 * (api, gateway, node-agent CLIs) over real Postgres and Redis: the result must still end up stored
 * (the unacked agent resends it after reconnecting), equal to the answer the caller got, and the task
 * must not run twice. The window is a state the test holds, never a timing guess: the gateway reaches
 * Redis through a proxy that swallows what the gateway sends while the test says so.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL, describeWith } from '../services.js';
import { Redis, type RedisT } from './lib/deps.js';
import { startTcpProxy, type TcpProxy } from './lib/infra.js';
import { killAll } from './lib/procs.js';
import { leaks, record } from './lib/report.js';
import { type ChaosStack, startChaosStack } from './lib/stack.js';
import { startTarget, type Target } from './lib/target.js';
import { waitFor } from '../support/wait-for.js';

await describeWith(['postgres', 'redis'], 'chaos: kill -9 of the gateway between answering the caller and storing the result', () => {
  let stack: ChaosStack;
  let target: Target;
  let redisProxy: TcpProxy;
  let redis: RedisT;
  const canaries: string[] = [];

  beforeAll(async () => {
    target = await startTarget();
    redisProxy = await startTcpProxy(REDIS_URL);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    stack = await startChaosStack({ name: 'early', env: { NODE_EXEC_TIMEOUT_MS: '60000' } });
    // Only the gateway goes through the proxy: the api, the worker and the test reach Redis directly.
    stack.env.gateway.REDIS_URL = redisProxy.url;
    canaries.push(stack.serviceToken, stack.accessToken);
    await stack.start();
  }, 180_000);

  afterAll(async () => {
    if (stack) {
      const found = leaks(canaries, [stack.allLogs()]);
      await stack.close();
      expect(found).toEqual([]);
    }
    redis?.disconnect();
    await redisProxy?.close();
    await target?.close();
    await killAll();
  }, 120_000);

  const dispatch = async (requestId: string) => {
    const res = await fetch(`${stack.gatewayUrl}/internal/v1/dispatch`, {
      method: 'POST',
      // A gateway that answers only once the result is stored never answers while the write is held.
      signal: AbortSignal.timeout(30_000),
      headers: { authorization: `Bearer ${stack.serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        organizationId: stack.orgId,
        requestId,
        kind: 'connector.action',
        payload: { connectorId: 'http', actionId: 'request', input: { method: 'GET', url: `${target.url}/early?hold=1` } },
        selector: { group: 'early' },
        timeoutMs: 60_000,
      }),
    });
    return { status: res.status, body: (await res.json()) as { status?: string; output?: unknown } };
  };

  it('the caller has its answer, the gateway dies before Redis stored it: the agent resends, the same result is stored, the task ran once', async () => {
    const agent = await stack.startAgent('early-a', 'group:early', {}, 5);
    canaries.push(agent.pairingToken, JSON.parse(readFileSync(agent.configPath, 'utf8')).agentToken);
    const requestId = `${randomBytes(8).toString('hex')}:n1:0`;
    const stored = async () => {
      const text = await redis.get(`gateway:results:${requestId}`);
      return text ? (JSON.parse(text) as { status: string; output?: unknown; agentId?: string }) : undefined;
    };

    const answered = dispatch(requestId);
    // The task runs on the agent (held in the target): the dispatch is claimed and recorded in Redis.
    await waitFor(() => (target.pending() === 1 ? true : undefined), { what: 'task executing', timeoutMs: 60_000, intervalMs: 50 });
    redisProxy.stall();
    target.release();
    // The result reached the gateway, which started to store it: that write is held in the proxy.
    const answer = await answered;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'succeeded', output: { status: 200, json: { ok: true, path: '/early' } } });
    expect(await stored()).toBeUndefined();

    await stack.hosts.gateway!.kill9();
    // The held write dies with the gateway's connections: Redis never got it.
    redisProxy.down();
    redisProxy.unstall();
    redisProxy.up();
    expect(await stored()).toBeUndefined();

    await stack.startGateway();
    // Not acked before the kill, the agent kept the result and resends it on its next session.
    const result = await waitFor(stored, { what: 'the resent result stored', timeoutMs: 60_000, intervalMs: 100 });
    expect(result).toMatchObject({ status: 'succeeded', output: answer.body.output, agentId: agent.agentId });
    // A repeat of the request is answered from the store: the task is not run again.
    const again = await dispatch(requestId);
    expect(again).toEqual({ status: 200, body: expect.objectContaining({ status: 'succeeded', output: answer.body.output }) });
    expect(target.hits.get('/early')).toBe(1);
    record('fault.gateway-kill-9-answered-before-stored', {
      answered: answer.body.status,
      stored: result.status,
      targetHits: target.hits.get('/early'),
    });
  }, 240_000);
});
