import { generateToken } from '@vespid/protocol';
import { staticAuthenticator } from '@vespid/sdk-gateway';
import { connectTestAgent } from '@vespid/sdk-gateway/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type GatewayHost, startGatewayHost } from './host.js';

const ORG = 'org-metrics';
const token = generateToken(ORG);
const revokedToken = generateToken(ORG);

describe('gateway host session metrics', () => {
  let host: GatewayHost;
  beforeAll(async () => {
    host = await startGatewayHost(
      { NODE_ENV: 'test', GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_LOG_LEVEL: 'silent' },
      {
        authenticator: staticAuthenticator([
          { token, agentId: 'm1', organizationId: ORG, tags: [] },
          { token: revokedToken, agentId: 'm2', organizationId: ORG, tags: [], revoked: true },
        ]),
      },
    );
  });
  afterAll(() => host.close({ timeoutMs: 1000 }));

  const metric = async (name: string) => {
    const text = await (await fetch(`${host.url}/metrics`)).text();
    return Number(
      text
        .split('\n')
        .find((l) => l.startsWith(name))
        ?.split(' ')
        .at(-1) ?? Number.NaN,
    );
  };

  it('counts auth failures by reason, reconnects and session closes by code', async () => {
    expect(await metric('vespid_gateway_agent_reconnects_total')).toBe(0);
    await expect(connectTestAgent({ url: host.wsUrl, token: generateToken(ORG) })).rejects.toThrow(/401/);
    await expect(connectTestAgent({ url: host.wsUrl, token: revokedToken })).rejects.toThrow(/403/);
    expect(await metric('vespid_gateway_auth_failures_total{reason="invalid"}')).toBe(1);
    expect(await metric('vespid_gateway_auth_failures_total{reason="revoked"}')).toBe(1);

    const first = await connectTestAgent({ url: host.wsUrl, token });
    // A second session of the same agent replaces the first (4409) and counts as a reconnect.
    const second = await connectTestAgent({ url: host.wsUrl, token });
    expect(await first.closedWith).toBe(4409);
    await vi.waitFor(async () => expect(await metric('vespid_gateway_agent_reconnects_total')).toBe(1), { interval: 20 });
    await vi.waitFor(async () => expect(await metric('vespid_gateway_session_closes_total{code="4409"}')).toBe(1), { interval: 20 });
    await second.close();
    await vi.waitFor(async () => expect(await metric('vespid_gateway_connected_agents')).toBe(0), { interval: 20 });
  });
});
