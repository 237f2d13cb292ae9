/**
 * The composed stack as separate processes (api, gateway, worker, node-agents) on one random Postgres
 * schema and one random BullMQ prefix, with every process's output captured for the canary scan.
 * Hosts can be killed (-9), terminated and restarted on the same port.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, bootstrapOrganization, createPool, dropSchema, migrate, type Pool } from './deps.js';
import { DATABASE_URL, REDIS_URL, uniquePrefix } from '../../services.js';
import { type HostProcess, freePort, spawnHost } from './procs.js';
import { waitFor } from '../../support/wait-for.js';

export interface ChaosStackOptions {
  name: string;
  /** Postgres URL the hosts use (a proxy in the outage test); the test itself always uses DATABASE_URL. */
  hostDatabaseUrl?: string;
  redisUrl?: string;
  env?: Record<string, string | undefined>;
}

export interface RunView {
  id: string;
  status: string;
  events: Array<{ type: string; node_id: string | null; payload: Record<string, unknown> }>;
}

export type ChaosStack = Awaited<ReturnType<typeof startChaosStack>>;

export async function startChaosStack(options: ChaosStackOptions) {
  const schema = uniquePrefix('chaos');
  const bullPrefix = uniquePrefix('chaosq');
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const serviceToken = `svc-canary-${randomBytes(16).toString('hex')}`;
  const kekBase64 = randomBytes(32).toString('base64');
  const tmp = mkdtempSync(join(tmpdir(), `vespid-${options.name}-`));
  const pool: Pool = createPool(DATABASE_URL, { schema, max: 4 });
  await migrate(pool, { schema });
  const boot = await bootstrapOrganization(pool, { orgName: 'Chaos', email: `${schema}@chaos.test` });
  const [gatewayPort, apiPort] = [await freePort(), await freePort()];
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const gatewayWsUrl = `ws://127.0.0.1:${gatewayPort}/ws`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const dbUrl = options.hostDatabaseUrl ?? DATABASE_URL;
  const common = {
    NODE_ENV: 'production',
    DATABASE_URL: dbUrl,
    DATABASE_SCHEMA: schema,
    REDIS_URL: redisUrl,
    BULLMQ_PREFIX: bullPrefix,
    GATEWAY_SERVICE_TOKEN: serviceToken,
    GATEWAY_HTTP_URL: gatewayUrl,
    GATEWAY_WS_URL: gatewayWsUrl,
    SECRETS_KEK_ID: 'chaos',
    SECRETS_KEK_BASE64: kekBase64,
  };
  const env = {
    gateway: { ...common, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(gatewayPort), GATEWAY_LOG_LEVEL: 'debug', ...options.env },
    worker: {
      ...common,
      WORKER_LOG_LEVEL: 'debug',
      NODE_EXEC_TIMEOUT_MS: '15000',
      WORKFLOW_CONTINUATION_POLL_MS: '1000',
      WORKFLOW_NODE_RETRY_DELAY_MS: '500',
      WORKFLOW_RUN_SWEEP_MS: '3000',
      WORKFLOW_RUN_CONCURRENCY: '20',
      WORKFLOW_CONTINUATION_CONCURRENCY: '20',
      ...options.env,
    },
    api: {
      ...common,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      API_LOG_LEVEL: 'debug',
      API_RATE_LIMIT_MAX: '1000000',
      API_PAIR_RATE_LIMIT_MAX: '100000',
      ...options.env,
    },
  };
  // One line array per logical host: restarts append to it, so the canary scan sees every incarnation.
  const logs = { gateway: [] as string[], worker: [] as string[], api: [] as string[], agents: [] as string[] };
  const hosts: { gateway?: HostProcess; worker?: HostProcess; api?: HostProcess } = {};
  const agents: HostProcess[] = [];
  let incarnation = 0;

  const ready = async (url: string, what: string, proc: HostProcess) =>
    waitFor(
      async () => {
        if (!proc.alive()) throw new Error(`${what} exited: ${proc.lines.slice(-5).join('\n')}`);
        const res = await fetch(url).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { what: `${what} ready`, timeoutMs: 60_000, intervalMs: 150 },
    );

  const stack = {
    name: options.name,
    schema,
    bullPrefix,
    pool,
    orgId: boot.orgId,
    accessToken: boot.accessToken,
    serviceToken,
    gatewayUrl,
    gatewayWsUrl,
    apiUrl,
    tmp,
    env,
    logs,
    hosts,
    agents,
    async startGateway(): Promise<HostProcess> {
      hosts.gateway = spawnHost(`${options.name}-gateway-${++incarnation}`, 'gateway', env.gateway, [], logs.gateway);
      await ready(`${gatewayUrl}/readyz`, 'gateway', hosts.gateway);
      return hosts.gateway;
    },
    async startWorker(): Promise<HostProcess> {
      const from = logs.worker.length;
      hosts.worker = spawnHost(`${options.name}-worker-${++incarnation}`, 'worker', env.worker, [], logs.worker);
      await hosts.worker.waitForLine(/worker started/, 60_000, from);
      return hosts.worker;
    },
    async startApi(): Promise<HostProcess> {
      hosts.api = spawnHost(`${options.name}-api-${++incarnation}`, 'api', env.api, [], logs.api);
      await ready(`${apiUrl}/health`, 'api', hosts.api);
      return hosts.api;
    },
    async start() {
      await stack.startGateway();
      await stack.startWorker();
      await stack.startApi();
    },
    /** A control-plane call as the org owner; returns status and parsed body, never throws on 4xx/5xx. */
    async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${boot.accessToken}`,
          'x-org-id': boot.orgId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = text;
      }
      return { status: res.status, body: json, text };
    },
    async ok(method: string, path: string, body?: unknown): Promise<any> {
      const r = await stack.call(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
      return r.body;
    },
    /** Pairs and starts one node-agent CLI process (the runbook's `connect`, spawned without pnpm). */
    async startAgent(name: string, tags: string, extraEnv: Record<string, string | undefined> = {}, maxInFlight = 50) {
      const { pairingToken } = await stack.ok('POST', `/v1/orgs/${boot.orgId}/agents/pairing-tokens`);
      const configPath = join(tmp, name, 'agent.json');
      const args = ['connect', '--pairing-token', pairingToken, '--api-base', apiUrl, '--tags', tags, '--name', name];
      args.push(
        '--config-path',
        configPath,
        '--max-in-flight',
        String(maxInFlight),
        '--json',
        '--log-level',
        'debug',
        '--drain-timeout-ms',
        '15000',
      );
      const proc = spawnHost(
        `${options.name}-agent-${name}`,
        'agent',
        { VESPID_AGENT_WORKDIR_ROOT: join(tmp, 'work'), ...extraEnv },
        args,
        [], // its own lines (waitForLine below must not match another agent's); scanned via `agents`
      );
      agents.push(proc);
      const config = await waitFor(
        () => {
          if (!proc.alive()) throw new Error(`agent ${name} exited: ${proc.lines.slice(-5).join('\n')}`);
          try {
            return JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string };
          } catch {
            return undefined;
          }
        },
        { what: `${name} config`, timeoutMs: 60_000 },
      );
      // Its own log line, not the gateway's session count (other clients of a test may be connected too).
      await proc.waitForLine(/"msg":"connected to gateway"/, 60_000);
      return { proc, agentId: config.agentId, configPath, name, pairingToken };
    },
    /** Restarts an agent from its saved config (`start`). */
    restartAgent(name: string, configPath: string, extraEnv: Record<string, string | undefined> = {}) {
      const args = ['start', '--config-path', configPath, '--json', '--log-level', 'debug', '--max-in-flight', '50'];
      const proc = spawnHost(
        `${options.name}-agent-${name}-re`,
        'agent',
        { VESPID_AGENT_WORKDIR_ROOT: join(tmp, 'work'), ...extraEnv },
        args,
        [],
      );
      agents.push(proc);
      return proc;
    },
    /** Ready sessions the gateway holds now (its /metrics gauge); undefined while it is down. */
    async connected(): Promise<number | undefined> {
      const res = await fetch(`${gatewayUrl}/metrics`).catch(() => undefined);
      if (!res?.ok) return undefined;
      const m = /^vespid_gateway_connected_agents (\d+)/m.exec(await res.text());
      return m ? Number(m[1]) : undefined;
    },
    /** Waits until the gateway holds at least `n` ready sessions. */
    async waitConnected(n: number, timeoutMs = 60_000) {
      await waitFor(async () => (((await stack.connected()) ?? -1) >= n ? true : undefined), {
        what: `${n} agents connected`,
        timeoutMs: timeoutMs,
        intervalMs: 200,
      });
    },
    /** Creates and publishes a workflow; returns its id. */
    async workflow(name: string, nodes: unknown[]): Promise<string> {
      const wf = await stack.ok('POST', `/v1/orgs/${boot.orgId}/workflows`, {
        name,
        dsl: { version: 1, trigger: { type: 'trigger.manual' }, nodes },
      });
      await stack.ok('POST', `/v1/orgs/${boot.orgId}/workflows/${wf.id}/publish`);
      return wf.id as string;
    },
    async startRun(workflowId: string): Promise<string> {
      const { runId } = await stack.ok('POST', `/v1/orgs/${boot.orgId}/workflows/${workflowId}/runs`, {});
      return runId as string;
    },
    /** Waits (bounded) until every run is terminal; reads status and events straight from Postgres. */
    async waitRuns(runIds: string[], timeoutMs: number): Promise<RunView[]> {
      const dead = () => (['gateway', 'worker', 'api'] as const).filter((h) => hosts[h] && !hosts[h]!.alive());
      await waitFor(
        async () => {
          const { rows } = await pool.query<{ n: string }>(
            "SELECT count(*) AS n FROM workflow_runs WHERE id = ANY($1::uuid[]) AND status IN ('succeeded','failed')",
            [runIds],
          );
          if (Number(rows[0]!.n) === runIds.length) return true;
          // A host that died on its own (not killed by the test) ends the wait at once, with its name.
          return dead().length ? (`died: ${dead().join(', ')}` as const) : undefined;
        },
        { what: `${runIds.length} runs terminal`, timeoutMs: timeoutMs, intervalMs: 250 },
      ).then((r) => {
        if (r !== true) throw new Error(`host(s) ${r} while waiting for runs`);
      });
      return stack.runViews(runIds);
    },
    async runViews(runIds: string[]): Promise<RunView[]> {
      const runs = await pool.query<{ id: string; status: string }>('SELECT id, status FROM workflow_runs WHERE id = ANY($1::uuid[])', [
        runIds,
      ]);
      const events = await pool.query<{ run_id: string; type: string; node_id: string | null; payload: Record<string, unknown> }>(
        'SELECT run_id, type, node_id, payload FROM workflow_run_events WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, seq',
        [runIds],
      );
      return runs.rows.map((r) => ({ id: r.id, status: r.status, events: events.rows.filter((e) => e.run_id === r.id) }));
    },
    /** Every stored result in Redis whose request id belongs to this stack's runs. */
    async storedResults(runIds: string[]): Promise<string[]> {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        const out: string[] = [];
        for (const id of runIds) {
          const keys = await redis.keys(`gateway:results:${id}*`);
          if (keys.length) out.push(...((await redis.mget(keys)).filter(Boolean) as string[]));
        }
        return out;
      } finally {
        redis.disconnect();
      }
    },
    allLogs(): string {
      return [...logs.gateway, ...logs.worker, ...logs.api, ...logs.agents, ...agents.flatMap((a) => a.lines)].join('\n');
    },
    async close() {
      await Promise.all(agents.map((a) => a.term(10_000)));
      for (const h of [hosts.api, hosts.worker, hosts.gateway]) if (h) await h.term(15_000);
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
      try {
        await redis.connect();
        const keys = await redis.keys(`${bullPrefix}:*`);
        for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      } catch {
        // Redis may be the test's own, already stopped.
      } finally {
        redis.disconnect();
      }
      await dropSchema(pool, schema).catch(() => {});
      await pool.end();
    },
  };
  return stack;
}

/** Invariants every fault test checks on its runs. */
export function runInvariants(runs: RunView[]) {
  let terminalDupes = 0;
  let nodeSucceededTwice = 0;
  let stuck = 0;
  let unclearFailures = 0;
  const failureCodes: Record<string, number> = {};
  for (const r of runs) {
    if (r.status !== 'succeeded' && r.status !== 'failed') stuck++;
    const ends = r.events.filter((e) => e.type === 'run_succeeded' || e.type === 'run_failed');
    if (ends.length !== 1) terminalDupes++;
    const succeeded = new Map<string, number>();
    for (const e of r.events) if (e.type === 'node_succeeded') succeeded.set(e.node_id ?? '', (succeeded.get(e.node_id ?? '') ?? 0) + 1);
    for (const n of succeeded.values()) if (n > 1) nodeSucceededTwice++;
    if (r.status === 'failed') {
      const code = (ends[0]?.payload as { error?: { code?: string } } | undefined)?.error?.code;
      if (!code || !/^[A-Z_]+$/.test(code)) unclearFailures++;
      failureCodes[code ?? 'none'] = (failureCodes[code ?? 'none'] ?? 0) + 1;
    }
  }
  return {
    runs: runs.length,
    succeeded: runs.filter((r) => r.status === 'succeeded').length,
    stuck,
    terminalDupes,
    nodeSucceededTwice,
    unclearFailures,
    failureCodes,
  };
}
