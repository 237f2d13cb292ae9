/**
 * The worker's Prometheus metrics and their `/metrics` listener (`WORKFLOW_METRICS_PORT`). Runs by
 * status come from Postgres at scrape time (the database is the truth, across every worker); node
 * latency and continuation lag are observed by this process when a remote result is committed.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from '@vespid/example-db';
import type { BlockedCursor, ContinuationResult } from '@vespid/sdk-dispatch';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const RUN_STATUSES = ['queued', 'running', 'blocked', 'succeeded', 'failed'];

/** The worker's registry and the hook the host calls per committed remote result. */
export interface WorkerMetrics {
  registry: Registry;
  /** After a remote node's result is committed (the runner's `applied` event). */
  resultApplied(event: { cursor: BlockedCursor; result: ContinuationResult }): void;
}

/**
 * Registers `vespid_worker_runs{status}`, `vespid_worker_node_duration_seconds{kind,status}`,
 * `vespid_worker_node_results_total{kind,status,code}`, `vespid_worker_continuation_lag_seconds{source}`
 * and the default Node process metrics on a registry of its own.
 *
 * @example
 * ```ts
 * const metrics = createWorkerMetrics(pool);
 * runner.on('applied', (e) => metrics.resultApplied(e));
 * ```
 */
export function createWorkerMetrics(pool: Pool): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'vespid_worker_runs',
    help: 'Workflow runs by status (all organizations, read from Postgres at scrape time)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM workflow_runs GROUP BY status',
      );
      this.reset();
      for (const status of RUN_STATUSES) this.set({ status }, 0);
      for (const r of rows) this.set({ status: r.status }, r.n);
    },
  });
  const duration = new Histogram({
    name: 'vespid_worker_node_duration_seconds',
    help: 'Remote node time from dispatch to result',
    labelNames: ['kind', 'status'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [registry],
  });
  const results = new Counter({
    name: 'vespid_worker_node_results_total',
    help: 'Remote node results applied, by kind, status and error code',
    labelNames: ['kind', 'status', 'code'],
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'vespid_worker_continuation_lag_seconds',
    help: 'Time from the result being stored (or made by the runner) to the run continuing, by how it arrived (push, poll, timeout, …)',
    labelNames: ['source'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 15, 60],
    registers: [registry],
  });
  return {
    registry,
    resultApplied({ cursor, result }) {
      const kind = cursor.request.kind;
      const since = cursor.dispatchedAt ?? cursor.createdAt;
      duration.observe({ kind, status: result.status }, Math.max(0, result.completedAt - since) / 1000);
      results.inc({ kind, status: result.status, code: result.error?.code ?? '' });
      lag.observe({ source: result.source }, Math.max(0, Date.now() - result.completedAt) / 1000);
    },
  };
}

/**
 * Serves `GET /metrics` (and `/healthz`) of `registry` on `host:port`; returns the server and its URL.
 *
 * @example
 * ```ts
 * const { url, server } = await serveMetrics(metrics.registry, { host: '0.0.0.0', port: 9464 });
 * ```
 */
export async function serveMetrics(registry: Registry, address: { host: string; port: number }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":"INTERNAL_ERROR","message":"metrics failed"}'),
      );
    } else if (path === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"NOT_FOUND","message":"not found"}');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  return { server, url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}` };
}
