/**
 * Scenario w: one real `createAgent` with the http connector (loopback allowed, since the bench target
 * listens there), in the organization of the worker's database.
 */
import { type Agent, connectorActionExecutor, createAgent, createDestinationPolicy, httpConnector } from '@vespid/sdk-agent';
import { fleetToken } from '../lib/fleet-auth.js';
import { serve, str } from '../lib/rpc.js';

let agent: Agent | undefined;

serve({
  async start(args) {
    const destinations = createDestinationPolicy({ allow: ['public', '127.0.0.1'] });
    agent = createAgent({
      gatewayWsUrl: str(args, 'wsUrl'),
      agentToken: fleetToken(0, str(args, 'secret')),
      name: 'bench-workflow-agent',
      maxInFlight: 1000,
      executors: [connectorActionExecutor({ connectors: [httpConnector({ destinations })] })],
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
  async stop() {
    await agent?.close({ timeoutMs: 2000 });
    setImmediate(() => process.exit(0));
    return true;
  },
});
