/**
 * One gateway replica process for the cluster test: the real host (`startGatewayHost`, env as in
 * production, `GATEWAY_CLUSTER=redis`) with a static authenticator handed over in `TEST_AGENTS_JSON`
 * instead of Postgres. Reports its URL over IPC; SIGTERM drains and exits 0.
 */
import { type StaticAgentEntry, staticAuthenticator } from '@vespid/sdk-gateway';
import { startGatewayHost } from '../src/host.js';

const entries = JSON.parse(process.env.TEST_AGENTS_JSON ?? '[]') as StaticAgentEntry[];
const host = await startGatewayHost(process.env, { authenticator: staticAuthenticator(entries) });
process.send?.({ url: host.url, wsUrl: host.wsUrl, replicaId: host.replicaId });
process.once('SIGTERM', () => {
  void host.close({ timeoutMs: 5000 }).then(() => process.exit(0));
});
