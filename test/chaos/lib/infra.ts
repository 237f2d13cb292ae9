/**
 * Infrastructure the outage tests own: a second redis-server on its own port (never the shared 6379
 * one) that can be shut down and restarted, and a TCP proxy in front of the shared Postgres that can
 * cut every connection and refuse new ones for a while (Postgres itself is never stopped), or hold back
 * either direction of the traffic.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './procs.js';
import { waitFor } from '../../support/wait-for.js';

export interface OwnRedis {
  url: string;
  port: number;
  /** `SHUTDOWN NOSAVE`: every key is gone, like a crashed cache node. */
  shutdown(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vespid-redis-'));
  let child: ChildProcess | undefined;
  const ping = () => {
    try {
      return execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', timeout: 2000 }).trim() === 'PONG';
    } catch {
      return false;
    }
  };
  const r: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: 'ignore',
      });
      await waitFor(() => (ping() ? true : undefined), { what: 'own redis up', timeoutMs: 10_000, intervalMs: 50 });
    },
    async shutdown() {
      const c = child;
      try {
        execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { timeout: 5000, stdio: 'ignore' });
      } catch {
        // redis-cli reports the dropped connection as an error.
      }
      if (c && c.exitCode === null) await new Promise((res) => c.once('exit', res));
    },
    async close() {
      if (child && child.exitCode === null) await r.shutdown();
    },
  };
  await r.start();
  return r;
}

export interface TcpProxy {
  url: string;
  /** Drops every open connection and refuses new ones until `up()`. */
  down(): void;
  up(): void;
  /** Requests still reach the target, but its answers are held back (never delivered) until `unhold()`. */
  hold(): void;
  unhold(): void;
  /** The other way round: what clients send is swallowed (it never reaches the target) until `unstall()`. */
  stall(): void;
  unstall(): void;
  close(): Promise<void>;
  stats: { accepted: number; refused: number; dropped: number };
}

/** A proxy for a `postgres://` or `http://` URL; `url` is the same URL pointing at the proxy. */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<[Socket, Socket]>();
  const stats = { accepted: 0, refused: 0, dropped: 0 };
  let isDown = false;
  let holding = false;
  let stalled = false;
  const server: Server = createServer((client) => {
    if (isDown) {
      stats.refused++;
      client.destroy();
      return;
    }
    stats.accepted++;
    const upstream = connect({ host: target.hostname, port: Number(target.port || 5432) });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // While stalled, requests are swallowed: the target never sees them (a write held in the network).
    client.on('data', (chunk: Buffer) => {
      if (!stalled) upstream.write(chunk);
    });
    // While holding, answers are swallowed: the caller sees a request that never returns.
    upstream.on('data', (chunk: Buffer) => {
      if (!holding) client.write(chunk);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    stats,
    down() {
      isDown = true;
      for (const [a, b] of pairs) {
        stats.dropped++;
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    up() {
      isDown = false;
    },
    hold() {
      holding = true;
    },
    unhold() {
      holding = false;
    },
    stall() {
      stalled = true;
    },
    unstall() {
      stalled = false;
    },
    async close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise((r) => server.close(r));
    },
  };
}
