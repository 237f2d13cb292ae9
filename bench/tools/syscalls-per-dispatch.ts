/**
 * Evidence tool (not part of `pnpm bench`): write/read syscalls per dispatch in the gateway, agent and
 * caller processes, counted with `strace -c` over a fixed number of dispatches at concurrency 64.
 *
 *   TSX_TSCONFIG_PATH=$PWD/tsconfig.json node --import tsx bench/tools/syscalls-per-dispatch.ts [agents=10] [n=3000]
 *
 * Needs `strace` and Redis. Prints one line per process: syscall → calls per dispatch.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchChild, startChild } from '../lib/child.js';

const agentsCount = Number(process.argv[2] ?? 10);
const n = Number(process.argv[3] ?? 3000);
const secret = randomBytes(8).toString('hex');
const serviceToken = randomBytes(16).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'vespid-strace-'));
const children: BenchChild[] = [];
try {
  const [gw, agents, load] = await Promise.all([
    startChild('gateway', 'gateway'),
    startChild('agents', 'agents'),
    startChild('caller', 'loadgen'),
  ]);
  children.push(load, agents, gw);
  const info = await gw.call<{ wsUrl: string; httpUrl: string }>('listen', {
    store: 'redis',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `vespid-bench:strace-${secret.slice(0, 6)}`,
    serviceToken,
    fleetSecret: secret,
    maxInFlight: 1000,
  });
  await agents.call('start', { wsUrl: info.wsUrl, from: 0, count: agentsCount, secret, maxInFlight: 1000 });
  const args = { httpUrl: info.httpUrl, serviceToken, concurrency: 64, connections: 64 };
  await load.call('dispatch', { ...args, n: 2000 }); // warm-up, not traced
  const traces = children.map((c) =>
    spawn('strace', ['-f', '-c', '-o', join(dir, `${c.name}.txt`), '-p', String(c.pid)], { stdio: 'ignore' }),
  );
  await new Promise((r) => setTimeout(r, 1500)); // strace attaches to every thread
  const r = await load.call<{ count: number }>('dispatch', { ...args, n, durationMs: 120_000 }, 180_000);
  for (const t of traces) t.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`${r.count} dispatches, ${agentsCount} agents, concurrency 64 — syscalls per dispatch:`);
  for (const c of children) {
    const rows = readFileSync(join(dir, `${c.name}.txt`), 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 5 && /^(write|writev|read|sendto|recvfrom|sendmsg)$/.test(f.at(-1) ?? ''));
    const per = rows.map((f) => `${f.at(-1)} ${(Number(f[3]) / r.count).toFixed(2)}`);
    console.log(`  ${c.name}: ${per.join(', ')}`);
  }
} finally {
  for (const c of children) await c.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
