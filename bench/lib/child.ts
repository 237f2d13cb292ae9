/**
 * Parent side: starts a bench process (`bench/procs/*.ts`) with the same tsx loader and tsconfig paths as
 * the parent, waits for its ready message, and calls its commands. Every call has a timeout, and
 * `stop()` escalates from a `stop` command to SIGKILL so a run always ends.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface BenchChild {
  readonly name: string;
  readonly pid: number;
  /** What the child sent with its ready message. */
  readonly info: Record<string, unknown>;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
  /** Asks the child to stop (command `stop`), then kills it after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Extra Node flags, e.g. `--cpu-prof`, `--expose-gc`. */
  nodeFlags?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

const procsDir = fileURLToPath(new URL('../procs/', import.meta.url));

/** Starts `bench/procs/<script>.ts` as a separate Node process. */
export async function startChild(name: string, script: string, options: StartOptions = {}): Promise<BenchChild> {
  const cp: ChildProcess = fork(`${procsDir}${script}.ts`, [], {
    execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const exited = new Promise<number | null>((resolve) => cp.once('exit', (code) => resolve(code)));
  void exited.then((code) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${name} exited (code ${code}) during a call`));
    }
    pending.clear();
  });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      cp.kill('SIGKILL');
      reject(new Error(`${name} not ready within ${options.readyTimeoutMs ?? 30_000} ms`));
    }, options.readyTimeoutMs ?? 30_000);
    cp.on('message', (raw) => {
      const m = raw as { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string };
      if (m.ready) {
        clearTimeout(timer);
        resolve(m as Record<string, unknown>);
        return;
      }
      if (typeof m.id !== 'number') return;
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name}: ${m.error}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it was ready`));
    });
  });
  const child: BenchChild = {
    name,
    pid: cp.pid ?? -1,
    info,
    exited,
    call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        if (cp.exitCode !== null || !cp.connected) {
          reject(new Error(`${name} is not running`));
          return;
        }
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        cp.send({ id, cmd, args });
      });
    },
    async stop(graceMs = 10_000) {
      if (cp.exitCode !== null || cp.signalCode !== null) return;
      const kill = setTimeout(() => cp.kill('SIGKILL'), graceMs);
      child.call('stop', {}, graceMs).catch(() => cp.kill('SIGKILL'));
      await exited;
      clearTimeout(kill);
    },
  };
  return child;
}
