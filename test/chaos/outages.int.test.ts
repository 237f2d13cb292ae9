/**
 * Infrastructure outages under load: the stack's own Redis is shut down (NOSAVE: every queued job,
 * stored result and dispatch record is gone) and restarted; Postgres becomes unreachable (a proxy
 * drops every connection and refuses new ones) for SCALE.postgresOutageMs. Components must reconnect
 * and every run must end — succeeded, or failed with a catalogue code — with no node succeeding twice.
 */
import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith } from '../services.js';
import { type OwnRedis, type TcpProxy, startOwnRedis, startTcpProxy } from './lib/infra.js';
import { killAll, sleep } from './lib/procs.js';
import { leaks, record } from './lib/report.js';
import { SCALE } from './lib/scale.js';
import { type ChaosStack, runInvariants, startChaosStack } from './lib/stack.js';
import { httpNode, startTarget, type Target } from './lib/target.js';

await describeWith(['postgres', 'redis'], 'chaos: Redis restart and Postgres outage under load', () => {
  const cleanups: Array<() => Promise<unknown>> = [];

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await killAll();
  }, 120_000);

  async function loadedStack(name: string, options: { redis?: OwnRedis; proxy?: TcpProxy }) {
    const target: Target = await startTarget();
    cleanups.push(() => target.close());
    const stack: ChaosStack = await startChaosStack({
      name,
      ...(options.redis ? { redisUrl: options.redis.url } : {}),
      ...(options.proxy ? { hostDatabaseUrl: options.proxy.url } : {}),
    });
    cleanups.push(() => stack.close());
    await stack.start();
    const canaries = [stack.serviceToken, stack.accessToken];
    for (const n of ['a1', 'a2']) {
      const a = await stack.startAgent(`${name}-${n}`, 'pool');
      canaries.push(a.pairingToken, (JSON.parse(readFileSync(a.configPath, 'utf8')) as { agentToken: string }).agentToken);
    }
    return { stack, target, canaries };
  }

  it('Redis shut down (NOSAVE) and restarted during load: components reconnect, runs end', async () => {
    const redis = await startOwnRedis();
    cleanups.push(() => redis.close());
    const { stack, target, canaries } = await loadedStack('redis', { redis });
    const wf = await stack.workflow('redis', [
      httpNode('r1', target.url, 'r1', { delayMs: 400 }),
      httpNode('r2', target.url, 'r2', { delayMs: 400 }),
    ]);
    const n = SCALE.redisRestartRuns;
    const runIds = await Promise.all(Array.from({ length: n }, () => stack.startRun(wf)));
    await sleep(700);
    await redis.shutdown();
    await sleep(2000);
    await redis.start();
    const runs = await stack.waitRuns(runIds, 150_000);
    const inv = runInvariants(runs);
    const hits = (target.hits.get('/r1') ?? 0) + (target.hits.get('/r2') ?? 0);
    const found = leaks(canaries, [stack.allLogs(), JSON.stringify(runs)]);
    record('fault.redis-restart-nosave', { ...inv, targetHits: hits, leaked: found.length });
    expect(inv).toMatchObject({ runs: n, stuck: 0, terminalDupes: 0, nodeSucceededTwice: 0, unclearFailures: 0 });
    expect(found).toEqual([]);
    for (const h of ['gateway', 'worker', 'api'] as const) expect(stack.hosts[h]!.alive(), h).toBe(true);
  }, 240_000);

  it(`Postgres unreachable for ${SCALE.postgresOutageMs} ms during load: components reconnect, runs resume`, async () => {
    const proxy = await startTcpProxy(DATABASE_URL);
    cleanups.push(() => proxy.close());
    const { stack, target, canaries } = await loadedStack('pgout', { proxy });
    const wf = await stack.workflow('pg', [
      httpNode('p1', target.url, 'p1', { delayMs: 300 }),
      httpNode('p2', target.url, 'p2', { delayMs: 300 }),
    ]);
    const n = SCALE.postgresOutageRuns;
    const runIds = await Promise.all(Array.from({ length: n }, () => stack.startRun(wf)));
    await sleep(500);
    proxy.down();
    await sleep(SCALE.postgresOutageMs);
    proxy.up();
    const runs = await stack.waitRuns(runIds, 150_000);
    const inv = runInvariants(runs);
    const found = leaks(canaries, [stack.allLogs(), JSON.stringify(runs)]);
    record('fault.postgres-unreachable', { ...inv, outageMs: SCALE.postgresOutageMs, proxy: proxy.stats, leaked: found.length });
    expect(found).toEqual([]);
    expect(inv).toMatchObject({ runs: n, stuck: 0, terminalDupes: 0, nodeSucceededTwice: 0, unclearFailures: 0 });
    for (const h of ['gateway', 'worker', 'api'] as const) expect(stack.hosts[h]!.alive(), h).toBe(true);
    // After the outage the control plane answers again.
    expect((await stack.call('GET', `/v1/orgs/${stack.orgId}/agents`)).status).toBe(200);
  }, 240_000);
});
