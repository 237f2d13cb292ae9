/**
 * `--health-port`: a small HTTP server for supervisors and Prometheus. `GET /healthz` is 200 while the
 * agent is connected and 503 otherwise (with the state in the body); `GET /metrics` is the Prometheus
 * text format. prom-client is loaded only when the server is asked for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from '@vespid/sdk-agent';

/** A listening health server. */
export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the health server for `agent` on `host:port` (port 0 = any free port).
 *
 * @example
 * ```ts
 * const health = await startHealthServer(agent, { port: 9464 });
 * ```
 */
export async function startHealthServer(agent: Agent, options: { port: number; host?: string }): Promise<HealthServer> {
  const { Counter, Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  new Gauge({
    name: 'vespid_agent_connected',
    help: '1 while the agent has a session with the gateway',
    registers: [registry],
    collect() {
      this.set(agent.state === 'connected' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'vespid_agent_tasks_running',
    help: 'Tasks accepted and not finished',
    registers: [registry],
    collect() {
      this.set(agent.inFlight);
    },
  });
  new Gauge({
    name: 'vespid_agent_results_pending',
    help: 'Finished results not yet acknowledged by the gateway',
    registers: [registry],
    collect() {
      this.set(agent.pendingResults);
    },
  });
  const tasks = new Counter({ name: 'vespid_agent_tasks_total', help: 'Finished tasks', labelNames: ['status'], registers: [registry] });
  tasks.inc({ status: 'succeeded' }, 0);
  tasks.inc({ status: 'failed' }, 0);
  const reconnects = new Counter({
    name: 'vespid_agent_reconnects_total',
    help: 'Connection attempts after a failure or a drop',
    registers: [registry],
  });
  const offFinished = agent.on('task.finished', ({ status }) => tasks.inc({ status }));
  const offDisconnected = agent.on('disconnected', ({ willReconnect }) => {
    if (willReconnect) reconnects.inc();
  });

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      const ok = agent.state === 'connected';
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', state: agent.state, inFlight: agent.inFlight }));
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"NOT_FOUND","message":"try /healthz or /metrics"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    async close() {
      offFinished();
      offDisconnected();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
