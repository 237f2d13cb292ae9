/**
 * An agent's status follows its live session first and `last_seen_at` second: a real agent that
 * stops cleanly (close 1000) is `offline` at the next list, not after the stale window (60 s here),
 * and `online` again as soon as it reconnects. Api and gateway host share one Postgres schema.
 */
import { randomBytes } from 'node:crypto';
import { type Agent, createAgent } from '@vespid/sdk-agent';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DATABASE_URL, describeWith } from '../../../test/services.js';
// The gateway host is another example package; imported by path (a test-only edge, no package cycle).
import { type GatewayHost, startGatewayHost } from '../../gateway/src/host.js';
import { type LiveSessionSource, gatewayLiveSessions, mergeLive } from './live-sessions.js';
import { type TestApi, startTestApi } from '../test/testing.js';

const SERVICE_TOKEN = `svc_status_${randomBytes(8).toString('hex')}`;

await describeWith(['postgres', 'redis'], 'agent status from the live session', () => {
  let api: TestApi;
  let gateway: GatewayHost;
  let live: LiveSessionSource | undefined;
  let org: { orgId: string; accessToken: string };
  const agents: Agent[] = [];

  beforeAll(async () => {
    // The api starts first (it creates and migrates the schema); its live source points at the gateway once that runs.
    const source: LiveSessionSource = {
      complete: true,
      list: (organizationId, options) => live?.list(organizationId, options) ?? Promise.resolve(undefined),
      close: async () => {},
    };
    api = await startTestApi({}, { liveSessions: source });
    gateway = await startGatewayHost({
      NODE_ENV: 'test',
      DATABASE_URL,
      DATABASE_SCHEMA: api.schema,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_LOG_LEVEL: 'silent',
      GATEWAY_SERVICE_TOKEN: SERVICE_TOKEN,
      GATEWAY_AGENT_STALE_MS: '60000',
    });
    live = gatewayLiveSessions({ url: gateway.url, serviceToken: SERVICE_TOKEN, timeoutMs: 2000 });
    org = await api.org('Status');
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) await a.close({ timeoutMs: 1000 });
    await live?.close();
    await gateway?.close({ timeoutMs: 2000 });
    await api?.close();
  });

  async function pairedAgent(name: string): Promise<{ agentId: string; start: () => Promise<Agent> }> {
    const t = await api.call('POST', `/v1/orgs/${org.orgId}/agents/pairing-tokens`, { token: org.accessToken });
    const paired = await api.call('POST', '/v1/agents/pair', { body: { pairingToken: t.body.pairingToken, name } });
    expect(paired.status).toBe(201);
    const start = async () => {
      const agent = createAgent({
        gatewayWsUrl: gateway.wsUrl,
        agentToken: paired.body.agentToken,
        name,
        executors: [{ kind: 'connector.action', execute: async () => ({ status: 'succeeded' }) }],
      });
      agents.push(agent);
      const up = new Promise<void>((resolve) => agent.on('connected', () => resolve()));
      await agent.start();
      await up;
      return agent;
    };
    return { agentId: paired.body.agentId as string, start };
  }

  const statusOf = async (agentId: string) => {
    const list = await api.call('GET', `/v1/orgs/${org.orgId}/agents`, { token: org.accessToken });
    const one = await api.call('GET', `/v1/orgs/${org.orgId}/agents/${agentId}`, { token: org.accessToken });
    const inList = list.body.agents.find((a: { id: string }) => a.id === agentId);
    return { list: inList.status as string, one: one.body.status as string, live: list.body.live as string };
  };

  it('shows an agent that stopped cleanly as offline at once, and online again when it reconnects', async () => {
    const { agentId, start } = await pairedAgent('clean-stop');
    const first = await start();
    await vi.waitFor(async () => expect(await statusOf(agentId)).toEqual({ list: 'online', one: 'online', live: 'gateway' }), {
      timeout: 10_000,
      interval: 50,
    });

    await first.close({ timeoutMs: 5000 });
    // last_seen_at is still within the 60 s stale window: only the live session can say "gone".
    const seen = await api.pool.query<{ fresh: boolean }>(
      "SELECT last_seen_at > now() - interval '60 seconds' AS fresh FROM organization_agents WHERE id = $1",
      [agentId],
    );
    expect(seen.rows[0]?.fresh).toBe(true);
    await vi.waitFor(async () => expect(await statusOf(agentId)).toEqual({ list: 'offline', one: 'offline', live: 'gateway' }), {
      timeout: 10_000,
      interval: 50,
    });

    await start();
    await vi.waitFor(async () => expect((await statusOf(agentId)).list).toBe('online'), { timeout: 10_000, interval: 50 });
  });

  it('keeps last-seen status when the gateway cannot list every session (cluster mode) or answers nothing', () => {
    const views = [
      { id: 'a', status: 'online' },
      { id: 'b', status: 'offline' },
      { id: 'r', status: 'revoked' },
    ];
    const session = {
      sessionId: 's',
      inFlight: 0,
      maxInFlight: 1,
      kinds: [],
      connectors: null,
      reportedTags: [],
      connectedAt: null,
      lastSeenAt: null,
    };
    const sessions = new Map([
      ['b', session],
      ['r', session],
    ]);
    const statuses = (complete: boolean) => mergeLive(views, sessions, true, { complete }).agents.map((a) => a.status);
    expect(statuses(true)).toEqual(['offline', 'online', 'revoked']);
    // A replica lists only its own sessions: a missing one is not proof the agent is gone.
    expect(statuses(false)).toEqual(['online', 'online', 'revoked']);
    expect(mergeLive(views, undefined, true).agents.map((a) => a.status)).toEqual(['online', 'offline', 'revoked']);
  });
});
