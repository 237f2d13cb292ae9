import type { Logger, StoredResult } from '@vespid/protocol';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { REDIS_CLUSTER_NODES, describeWith, uniquePrefix } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { ResultSubscription } from '../runner/result-push.js';
import { redisResultPush } from './result-push.js';

const seeds = REDIS_CLUSTER_NODES.split(',').map((hp) => {
  const [host, port] = hp.trim().split(':');
  return { host: host || '127.0.0.1', port: Number(port) };
});

const result = (requestId: string): StoredResult => ({
  requestId,
  organizationId: 'org-push',
  status: 'succeeded',
  output: { ok: true },
  completedAt: Date.now(),
});

await describeWith(['redis-cluster'], 'redisResultPush on a Redis Cluster', () => {
  const channel = `${uniquePrefix('push')}:results`;
  // The caller's client, as a host that runs on a Redis Cluster has it; the push copies its settings.
  const cluster = new Cluster(seeds, { redisOptions: { maxRetriesPerRequest: 1 } });
  const open: ResultSubscription[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(() => cluster.quit());

  it('receives results published (classic PUBLISH) on every master of the cluster', async () => {
    const got: StoredResult[] = [];
    const push = redisResultPush({ connection: cluster, channel });
    open.push(await push.subscribe({ onResult: (r) => got.push(r) }));
    await cluster.ping(); // loads the slot map, so the masters are known
    const masters = cluster.nodes('master');
    expect(masters.length).toBeGreaterThanOrEqual(3);
    // Redis Cluster forwards a PUBLISH on any node to the subscribers on every node.
    for (const [i, m] of masters.entries()) await m.publish(channel, JSON.stringify(result(`r${i}:n:0`)));
    await waitFor(() => got.length === masters.length, { timeoutMs: 5000 });
    expect(got.map((r) => r.requestId).sort()).toEqual(masters.map((_, i) => `r${i}:n:0`));
  });

  it("drops what is not a result, and leaves the caller's client usable after close", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: unknown, m: string) => warnings.push(m) } as unknown as Logger;
    const got: StoredResult[] = [];
    const sub = await redisResultPush({ connection: cluster, channel, logger }).subscribe({ onResult: (r) => got.push(r) });
    // Each PUBLISH may go to another node, so they can arrive in any order: wait for all three.
    await cluster.publish(channel, 'not json');
    await cluster.publish(channel, JSON.stringify({ requestId: 'x' }));
    await cluster.publish(channel, JSON.stringify(result('after:n:0')));
    await waitFor(() => got.length === 1 && warnings.length === 2, { timeoutMs: 5000 });
    expect(got.map((r) => r.requestId)).toEqual(['after:n:0']);
    expect(warnings.sort()).toEqual([
      'dropped a result publication that is not JSON',
      'dropped a result publication that is not a protocol v1 result',
    ]);
    await sub.close();
    // The subscription had its own connections: the caller's cluster client still runs commands.
    expect(await cluster.ping()).toBe('PONG');
  });
});
