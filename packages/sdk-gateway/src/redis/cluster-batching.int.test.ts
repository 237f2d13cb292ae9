import type { Duplex } from 'node:stream';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { clusterNodes, deleteKeys } from '../../test/redis-backends.js';
import type { GatewayCluster } from '../cluster/cluster-types.js';
import { redisCluster, redisResultStore } from './index.js';

const ORG = 'org-batch';

/**
 * Records every write that reaches a master's socket (what `writev`/`write` hands the kernel: one
 * syscall each), with the text written. Counted, never timed.
 */
function recordSocketWrites(cluster: Cluster): { writes: string[]; restore: () => void } {
  const writes: string[] = [];
  const restores: Array<() => void> = [];
  for (const node of cluster.nodes('master')) {
    const stream = (node as { stream?: Duplex }).stream as Duplex & {
      _write: (chunk: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void) => void;
      _writev?: (chunks: Array<{ chunk: unknown }>, cb: (err?: Error | null) => void) => void;
    };
    const write = stream._write;
    const writev = stream._writev;
    stream._write = function (chunk, encoding, cb) {
      writes.push(String(chunk));
      return write.call(this, chunk, encoding, cb);
    };
    if (writev)
      stream._writev = function (chunks, cb) {
        writes.push(chunks.map((c) => String(c.chunk)).join(''));
        return writev.call(this, chunks, cb);
      };
    restores.push(() => {
      stream._write = write;
      stream._writev = writev;
    });
  }
  return {
    writes,
    restore: () => {
      for (const r of restores) r();
    },
  };
}

const count = (text: string, what: string) => text.split(what).length - 1;

// An ioredis Cluster has no socket of its own (`redis.stream`): the per-turn batching must hold each
// master's socket, or every command of a busy turn is its own write syscall and its own read on the server.
await describeWith(['redis-cluster'], 'write batching on a Redis Cluster (real cluster, counted socket writes)', () => {
  const redis = new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 1 } });
  const root = uniquePrefix('gwbatch');
  let n = 0;
  const clusters: GatewayCluster[] = [];
  let restore = () => {};

  afterEach(() => restore());
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.close()));
    await deleteKeys(redis, `${root}*`);
    redis.disconnect();
  });

  /** Every master connected, so the commands under test go straight to sockets. */
  async function watch() {
    await redis.ping();
    await Promise.all(redis.nodes('master').map((node) => node.ping()));
    const rec = recordSocketWrites(redis);
    restore = rec.restore;
    return rec.writes;
  }

  it('result store: the writes of one turn reach each master in one socket write', async () => {
    const p = `${root}:${++n}`;
    const names = { keyPrefix: `${p}:results:`, dispatchKeyPrefix: `${p}:dispatches:`, channel: `${p}:results` };
    await redis.ping();
    const masters = redis.nodes('master').length;
    // Request ids spread over every master (each result key hashes to its own slot).
    const ids = Array.from({ length: 60 }, (_, i) => `batch-${i}:n:0`);
    // Unbatched first: it also loads the script on every master, so no NOSCRIPT retry adds writes later.
    for (const batchWrites of [false, true]) {
      const store = redisResultStore({ redis, batchWrites, ...names, keyPrefix: `${names.keyPrefix}${batchWrites}:` });
      const writes = await watch();
      const stored = await Promise.all(
        ids.map((requestId) => store.put({ requestId, organizationId: 'o', status: 'succeeded', completedAt: 1 })),
      );
      restore();
      expect(stored.every(Boolean)).toBe(true);
      const commands = writes.reduce((sum, w) => sum + count(w, 'evalsha'), 0);
      expect(commands).toBe(ids.length);
      if (batchWrites) expect(writes.length).toBeLessThanOrEqual(masters);
      // The control: unbatched, far more writes than masters, so the bound above means something.
      else expect(writes.length).toBeGreaterThan(masters);
    }
  });

  it('cluster mode: the reserves and bus messages of one turn reach the org master in one socket write', async () => {
    const cluster = redisCluster({ redis, replicaId: 'r-batch', keyPrefix: `${root}:${++n}:cluster:`, presenceTtlMs: 600_000 });
    clusters.push(cluster);
    await cluster.start();
    // Loads the reserve script on the org's master (a NOSCRIPT retry would be a write of its own).
    await cluster.reserve({
      requestId: 'warm',
      organizationId: ORG,
      kind: 'agent.execute',
      strategy: 'round_robin',
      deadline: Date.now() + 60_000,
    });
    const writes = await watch();
    const reserves = Array.from({ length: 20 }, (_, i) =>
      cluster.reserve({
        requestId: `rq${i}`,
        organizationId: ORG,
        kind: 'agent.execute',
        strategy: 'round_robin',
        deadline: Date.now() + 60_000,
      }),
    );
    // Probes are bus messages (SPUBLISH to this replica's own sharded channel).
    const probes = Array.from({ length: 20 }, () => cluster.isAlive('r-other'));
    await Promise.all([...reserves, ...probes]);
    restore();
    expect(writes.reduce((sum, w) => sum + count(w, 'evalsha'), 0)).toBe(20);
    expect(writes.reduce((sum, w) => sum + count(w, 'spublish'), 0)).toBe(20);
    // One org slot (reserves) and one channel slot (probes): at most one write to each of two masters.
    expect(writes.length).toBeLessThanOrEqual(2);
  });

  it('presence refresh: one pipeline per organization, so one socket write for all its agents', async () => {
    // presenceTtlMs 300: the refresh runs every 100 ms.
    const cluster = redisCluster({ redis, replicaId: 'r-refresh', keyPrefix: `${root}:${++n}:cluster:`, presenceTtlMs: 300 });
    clusters.push(cluster);
    await cluster.start();
    const agents = 12;
    for (let i = 0; i < agents; i++)
      await cluster.register({
        agentId: `a${i}`,
        organizationId: ORG,
        sessionId: `s${i}`,
        maxInFlight: 1,
        kinds: ['agent.execute'],
        connectors: null,
        tags: [],
      });
    const writes = await watch();
    await waitFor(() => writes.some((w) => w.includes('pexpire')), 'a presence refresh');
    restore();
    const first = writes.find((w) => w.includes('pexpire'))!;
    expect(count(first, '\r\npexpire\r\n')).toBe(agents);
  });
});
