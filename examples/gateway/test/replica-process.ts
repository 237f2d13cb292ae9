/**
 * Gateway replica PROCESSES for the cluster tests: the real host (`test/cluster-replica.ts`) spawned
 * with the env a test gives it, its URL reported over IPC, its output kept for the secret canaries.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('..', import.meta.url));

export interface ReplicaProcess {
  child: ChildProcess;
  url: string;
  port: number;
  replicaId: string;
  output: () => string;
}

/** Spawns replica `i` with `env` over the current environment; rejects (and kills it) if it does not start in 30 s. */
export async function startReplicaProcess(i: number, env: Record<string, string>): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/cluster-replica.ts'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const info = await new Promise<{ url: string; replicaId: string }>((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`replica ${i} did not start: ${out.slice(-500)}`));
    }, 30_000);
    child.once('message', (m) => {
      clearTimeout(t);
      resolve(m as { url: string; replicaId: string });
    });
    child.once('exit', (code) => reject(new Error(`replica ${i} exited ${code}: ${out.slice(-500)}`)));
  });
  return { child, url: info.url, port: Number(new URL(info.url).port), replicaId: info.replicaId, output: () => out };
}

/** SIGTERM (drain), then SIGKILL if it has not exited after `graceMs`. A replica already dead is left alone. */
export async function stopReplicaProcess(r: ReplicaProcess, graceMs = 8000): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  const exited = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** An internal-API call with the service token; the body parsed when there is one. */
export async function callReplica(
  r: { url: string },
  serviceToken: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${r.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
