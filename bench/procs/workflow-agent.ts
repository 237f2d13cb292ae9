/**
 * Scenario w: one real `createAgent` with the http connector (loopback allowed, since the bench target
 * listens there), in the organization of the worker's database.
 */
import { type Agent, type Executor, connectorActionExecutor, createAgent, createDestinationPolicy, httpConnector } from '@vespid/sdk-agent';
import { fleetToken } from '../lib/fleet-auth.js';
import { nowMs, serve, str } from '../lib/rpc.js';

let agent: Agent | undefined;
/** When tracing: requestId → [executor start, executor end] (monotonic ms). */
let traced: Map<string, number[]> | null = null;

serve({
  async start(args) {
    const destinations = createDestinationPolicy({ allow: ['public', '127.0.0.1'] });
    agent = createAgent({
      gatewayWsUrl: str(args, 'wsUrl'),
      agentToken: fleetToken(0, str(args, 'secret')),
      name: 'bench-workflow-agent',
      maxInFlight: 1000,
      executors: [timed(connectorActionExecutor({ connectors: [httpConnector({ destinations })] }))],
    });
    const connected = new Promise<void>((resolve) => {
      const off = agent!.on('connected', () => {
        off();
        resolve();
      });
    });
    await agent.start();
    await connected;
    return true;
  },
  trace(args) {
    const out = Object.fromEntries(traced ?? []);
    traced = args.on === true ? new Map() : null;
    return out;
  },
  async stop() {
    await agent?.close({ timeoutMs: 2000 });
    setImmediate(() => process.exit(0));
    return true;
  },
});

function timed(executor: Executor): Executor {
  return {
    ...executor,
    async execute(task, ctx) {
      if (!traced) return executor.execute(task, ctx);
      const t = [nowMs()];
      traced.set(task.requestId, t);
      try {
        return await executor.execute(task, ctx);
      } finally {
        t[1] = nowMs();
      }
    },
  };
}
