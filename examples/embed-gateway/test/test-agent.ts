import { type Agent, type Executor, createAgent } from '@vespid/sdk-agent';

/** An executor that echoes its payload (and fails on `{ fail: true }`), for the embedding tests. */
export const echoExecutor: Executor = {
  kind: 'example.echo',
  async execute(task) {
    const p = task.payload as { fail?: boolean } | null;
    if (p && typeof p === 'object' && p.fail) return { status: 'failed', error: { code: 'BAD_REQUEST', message: 'asked to fail' } };
    return { status: 'succeeded', output: { echo: task.payload } };
  },
};

/** Starts a real sdk-agent against `wsUrl` and resolves once its session is up. */
export async function connectEchoAgent(wsUrl: string, agentToken: string, name = 'echo-agent'): Promise<Agent> {
  const agent = createAgent({ gatewayWsUrl: wsUrl, agentToken, name, executors: [echoExecutor] });
  const connected = new Promise((resolve) => agent.on('connected', resolve));
  await agent.start();
  await connected;
  return agent;
}
