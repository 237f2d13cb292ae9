/**
 * Real child processes for the faults (kill -9 needs a process): the example hosts are started as
 * `node --import tsx <entry>` with the repo tsconfig (paths → source), their stdout/stderr captured
 * line by line (the canary scan reads them all) and mirrored to test-artifacts/chaos/<name>.log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts/chaos');

export const ENTRY = {
  gateway: 'examples/gateway/src/main.ts',
  worker: 'examples/worker/src/main.ts',
  api: 'examples/api/src/main.ts',
  agent: 'examples/node-agent/src/cli.ts',
  swarm: 'test/chaos/hosts/swarm.ts',
} as const;

export interface HostProcess {
  name: string;
  child: ChildProcess;
  /** Every line the process wrote to stdout or stderr so far (all incarnations share one array when passed in). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  kill9(): Promise<void>;
  /** SIGTERM, then waits for exit; SIGKILL after `graceMs`. Resolves with the exit code (null if killed). */
  term(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  waitForLine(re: RegExp, timeoutMs: number, fromIndex?: number): Promise<string>;
}

const all = new Set<HostProcess>();

/** Spawns one host. `lines` may be shared across restarts of the same logical host. */
export function spawnHost(
  name: string,
  entry: keyof typeof ENTRY,
  env: Record<string, string | undefined>,
  args: string[] = [],
  lines: string[] = [],
): HostProcess {
  mkdirSync(ARTIFACTS, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, ENTRY[entry]), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const log: WriteStream = createWriteStream(join(ARTIFACTS, `${name}.log`), { flags: 'a' });
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      log.write(chunk);
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(p);
      for (const w of waiters) w();
    });
    stream.on('end', () => {
      if (buf.trim()) lines.push(buf);
      buf = '';
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of waiters) w();
      // Let the pipes flush their last lines before the log closes.
      setTimeout(() => log.end(), 50);
      resolve({ code, signal });
    }),
  );
  const proc: HostProcess = {
    name,
    child,
    lines,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill9() {
      if (proc.alive()) child.kill('SIGKILL');
      await exited;
    },
    async term(graceMs = 20_000) {
      const started = Date.now();
      if (proc.alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return { ...r, ms: Date.now() - started };
    },
    waitForLine(re, timeoutMs, fromIndex = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = fromIndex; i < lines.length; i++) {
            if (re.test(lines[i]!)) {
              done();
              return resolve(lines[i]!);
            }
          }
          if (!proc.alive()) {
            done();
            reject(new Error(`${name} exited before ${re}: ${lines.slice(-5).join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms; last: ${lines.slice(-5).join('\n')}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
  all.add(proc);
  void exited.then(() => all.delete(proc));
  return proc;
}

/** Kills every host still running (afterAll safety net). */
export async function killAll(): Promise<void> {
  await Promise.all([...all].map((p) => p.kill9()));
}

/** A free loopback port (so a restarted host comes back where its clients expect it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
