/**
 * A Redis Cluster of its own for a test that breaks it (kill -9 of a master): started with
 * `scripts/redis-cluster.sh` on other ports and in another directory than the shared cluster of
 * `REDIS_CLUSTER_NODES` (7000-7005), which other test runs use at the same time.
 *
 * @example
 * const cluster = await startPrivateRedisCluster({ portBase: 7100 });
 * const master = await cluster.masterOf('{org-1}');
 * cluster.kill9(master);
 * await cluster.waitForFailover(master);
 * await cluster.stop();
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/redis-cluster.sh', import.meta.url));

/** One node as `CLUSTER NODES` lists it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  /** Slot ranges it serves (masters only). */
  slots: Array<[number, number]>;
}

/** A master picked for a kill: its node id, port and the slot that made it the target. */
export interface ClusterMaster {
  id: string;
  port: number;
  slot: number;
}

export interface PrivateRedisCluster {
  /** Seeds, as `REDIS_CLUSTER_NODES` wants them: `127.0.0.1:7100,…`. */
  nodes: string;
  ports: number[];
  /** The master serving the slot of `key` (pass `{tag}` for a hash tag). */
  masterOf(key: string): Promise<ClusterMaster>;
  /** `kill -9` of the node's process (its pid from its pidfile). */
  kill9(node: { port: number }): Promise<void>;
  /** Waits until another node, promoted master, serves `old.slot` and every live node says `cluster_state:ok`. */
  waitForFailover(old: ClusterMaster, timeoutMs?: number): Promise<ClusterMaster>;
  /** Shuts every node down and removes the data directory. */
  stop(): Promise<void>;
}

function parseNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, addr, flags, , , , , , ...slots] = line.trim().split(' ');
      return {
        id: id!,
        port: Number(addr!.split('@')[0]!.split(':').pop()),
        master: flags!.split(',').includes('master'),
        failed: /(^|,)(fail|fail\?|noaddr)(,|$)/.test(flags!),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-').map(Number);
            return [a!, b ?? a!] as [number, number];
          }),
      };
    });
}

/**
 * Starts 3 masters + 3 replicas on `portBase`…`portBase + 5` (bus ports +10000) in a fresh temp dir and
 * waits for `cluster_state:ok`. Rejects when the cluster does not come up: the calling test fails.
 */
export async function startPrivateRedisCluster(options: { portBase: number }): Promise<PrivateRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), `vespid-redis-cluster-${options.portBase}-`));
  const env = { ...process.env, REDIS_CLUSTER_PORT_BASE: String(options.portBase), REDIS_CLUSTER_DIR: dir };
  const ports = Array.from({ length: 6 }, (_, i) => options.portBase + i);
  const stop = async () => {
    await run('bash', [SCRIPT, '--stop'], { env }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [SCRIPT], { env, timeout: 90_000 }));
  } catch (err) {
    await stop();
    throw new Error(`private Redis Cluster on ${options.portBase}-${options.portBase + 5} did not start: ${(err as Error).message}`);
  }
  const nodes = /REDIS_CLUSTER_NODES=(\S+)/.exec(stdout)?.[1];
  if (!nodes) throw new Error(`scripts/redis-cluster.sh printed no REDIS_CLUSTER_NODES: ${stdout.slice(0, 200)}`);
  const dead = new Set<number>();

  // redis-cli (installed with redis-server) to a node that is still alive: the root test tree has no ioredis.
  const cli = async (args: string[], port = ports.find((p) => !dead.has(p))!): Promise<string> =>
    (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 })).stdout;
  const clusterNodes = async () => parseNodes(await cli(['CLUSTER', 'NODES']));
  const ownerOf = async (slot: number) =>
    (await clusterNodes()).find((n) => n.master && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));

  // cluster_state:ok comes before the replicas hold their master's data (a diskless sync starts after
  // repl-diskless-sync-delay, 5 s): a master killed before that has no replica able to take over.
  await waitFor(
    async () => {
      const infos = await Promise.all(ports.map((p) => cli(['INFO', 'replication'], p)));
      return infos.every((i) => i.includes('role:master') || i.includes('master_link_status:up'));
    },
    { what: 'every replica in sync with its master', timeoutMs: 60_000, intervalMs: 100 },
  ).catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  return {
    nodes,
    ports,
    async masterOf(key) {
      const slot = Number((await cli(['CLUSTER', 'KEYSLOT', key])).trim());
      const owner = await ownerOf(slot);
      if (!owner) throw new Error(`no master serves slot ${slot}`);
      return { id: owner.id, port: owner.port, slot };
    },
    async kill9(node) {
      const pid = Number((await readFile(join(dir, String(node.port), 'redis.pid'), 'utf8')).trim());
      dead.add(node.port);
      process.kill(pid, 'SIGKILL');
    },
    async waitForFailover(old, timeoutMs = 30_000) {
      return waitFor(
        async () => {
          const owner = await ownerOf(old.slot);
          if (!owner || owner.id === old.id) return false;
          const live = ports.filter((p) => !dead.has(p));
          const states = await Promise.all(live.map((p) => cli(['CLUSTER', 'INFO'], p)));
          return states.every((s) => s.includes('cluster_state:ok')) && { id: owner.id, port: owner.port, slot: old.slot };
        },
        { what: `a replica promoted for slot ${old.slot} (master ${old.port} killed)`, timeoutMs, intervalMs: 50 },
      );
    },
    stop,
  };
}
