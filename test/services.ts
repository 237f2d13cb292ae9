/**
 * Tells an integration test whether a real service is reachable. Locally a missing service skips the
 * tests that need it (with a visible reason); under `CI=true` a missing service is a failure, so a
 * green CI always means the tests ran against the real thing.
 */
import { execFile } from 'node:child_process';
import { Socket, connect } from 'node:net';
import { describe } from 'vitest';

/** `redis-server`: the binary is installed, so a test can start its own private Redis Cluster. */
export type Service = 'postgres' | 'redis' | 'redis-cluster' | 'redis-server' | 'docker';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Seed nodes of the test Redis Cluster (`scripts/redis-cluster.sh`), comma-separated `host:port`. */
export const REDIS_CLUSTER_NODES =
  process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005';
export const DOCKER_SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';

function tcpReachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function dockerReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.connect(DOCKER_SOCKET, () => {
      s.write('GET /_ping HTTP/1.0\r\n\r\n');
    });
    s.once('data', (d) => done(d.toString().includes('200 OK')));
  });
}

function binaryInstalled(name: string): Promise<boolean> {
  return new Promise((resolve) => execFile(name, ['--version'], (err) => resolve(!err)));
}

const cache = new Map<Service, Promise<boolean>>();

/** Whether the service answers. Under CI a missing service throws, failing the test file. */
export async function serviceAvailable(service: Service): Promise<boolean> {
  let p = cache.get(service);
  if (!p) {
    p =
      service === 'postgres'
        ? tcpReachable(DATABASE_URL, 5432)
        : service === 'redis'
          ? tcpReachable(REDIS_URL, 6379)
          : service === 'redis-cluster'
            ? tcpReachable(`redis://${REDIS_CLUSTER_NODES.split(',')[0]}`, 7000)
            : service === 'redis-server'
              ? binaryInstalled('redis-server')
              : dockerReachable();
    cache.set(service, p);
  }
  const ok = await p;
  if (!ok && process.env.CI) {
    const hint =
      service === 'redis-cluster'
        ? 'bash scripts/redis-cluster.sh'
        : service === 'redis-server'
          ? 'apt-get install -y redis-server'
          : 'see README: "Services for the integration tests"';
    throw new Error(`${service} is required under CI=true but is not reachable (${hint})`);
  }
  return ok;
}

/**
 * `describe` that runs only when every named service is up; under CI a missing one fails instead.
 *
 * @example
 * ```ts
 * await describeWith(['redis'], 'redis result store', () => { it(...) });
 * ```
 */
export async function describeWith(services: Service[], name: string, fn: () => void): Promise<void> {
  const missing: Service[] = [];
  for (const s of services) if (!(await serviceAvailable(s))) missing.push(s);
  if (missing.length) describe.skip(`${name} (needs ${missing.join(', ')})`, fn);
  else describe(name, fn);
}

/** A random prefix for Redis keys / Postgres schemas so parallel tests never collide. */
export function uniquePrefix(tag = 't'): string {
  return `${tag}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
