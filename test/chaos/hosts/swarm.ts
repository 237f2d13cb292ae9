/**
 * Many agents in one process for the load test: `createAgent` per token from the file named by
 * CHAOS_SWARM_FILE, with a `connector.action` executor that checks each task against what the load
 * generator expects (organization, tag or group) and counts every execution per request id. The
 * parent reads the counts over IPC ({type: 'report'}) and stops the process with SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';

interface SwarmAgent {
  token: string;
  agentId: string;
  organizationId: string;
  tags: string[];
}

const config = JSON.parse(readFileSync(process.env.CHAOS_SWARM_FILE!, 'utf8')) as { wsUrl: string; agents: SwarmAgent[] };
const executions = new Map<string, number>();
let crossOrg = 0;
let selectorMismatch = 0;

function executorFor(a: SwarmAgent): Executor {
  return {
    kind: 'connector.action',
    async execute(task) {
      executions.set(task.requestId, (executions.get(task.requestId) ?? 0) + 1);
      const expect = (task.payload as { input?: { expect?: { organizationId: string; tag?: string; group?: string } } }).input?.expect;
      if (task.organizationId !== a.organizationId || expect?.organizationId !== a.organizationId) crossOrg++;
      if (expect?.tag && !a.tags.includes(expect.tag)) selectorMismatch++;
      if (expect?.group && !a.tags.includes(`group:${expect.group}`)) selectorMismatch++;
      return { status: 'succeeded', output: { agentId: a.agentId, organizationId: a.organizationId } };
    },
  };
}

const agents: Agent[] = config.agents.map((a) =>
  createAgent({
    gatewayWsUrl: config.wsUrl,
    agentToken: a.token,
    name: `swarm-${a.agentId.slice(0, 8)}`,
    tags: a.tags,
    maxInFlight: 16,
    executors: [executorFor(a)],
    reconnect: { initialDelayMs: 200, maxDelayMs: 3000 },
  }),
);

// Start in small batches so 250 sockets do not hit the gateway's authenticator in one burst.
for (let i = 0; i < agents.length; i += 25) await Promise.all(agents.slice(i, i + 25).map((a) => a.start()));
process.send?.({ type: 'started', agents: agents.length });

process.on('message', (msg: { type?: string }) => {
  if (msg.type !== 'report') return;
  process.send?.({
    type: 'report',
    executions: [...executions.entries()],
    crossOrg,
    selectorMismatch,
  });
});

process.once('SIGTERM', () => {
  void Promise.all(agents.map((a) => a.close({ timeoutMs: 5000 }))).then(() => process.exit(0));
});
