/**
 * No response of the api may be kept by a browser cache or a shared proxy: every one that carries a
 * secret (pairing token, agent token, invitation token, access token) is `Cache-Control: no-store`,
 * and so is everything else that does not choose its own policy (errors, 404s, 429s included).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../test/services.js';
import { type TestApi, startTestApi } from '../test/testing.js';

await describeWith(['postgres', 'redis'], 'api Cache-Control', () => {
  let api: TestApi;
  let org: { orgId: string; userId: string; accessToken: string };
  beforeAll(async () => {
    api = await startTestApi({ pairRateLimitMax: 3 });
    org = await api.org('Caching');
  });
  afterAll(() => api?.close());

  it('every response that carries a secret is no-store', async () => {
    const pairing = await api.call('POST', `/v1/orgs/${org.orgId}/agents/pairing-tokens`, { token: org.accessToken });
    const paired = await api.call('POST', '/v1/agents/pair', { body: { pairingToken: pairing.body.pairingToken, name: 'cache-probe' } });
    const invited = await api.call('POST', `/v1/orgs/${org.orgId}/members`, {
      token: org.accessToken,
      body: { email: `c-${randomUUID()}@example.test`, role: 'member' },
    });
    const accepted = await api.call('POST', '/v1/invitations/accept', { body: { invitationToken: invited.body.invitationToken } });
    const carriers = [
      { what: 'pairing token', res: pairing, secret: pairing.body.pairingToken },
      { what: 'agent token', res: paired, secret: paired.body.agentToken },
      { what: 'invitation token', res: invited, secret: invited.body.invitationToken },
      { what: 'access token', res: accepted, secret: accepted.body.accessToken },
    ];
    for (const { what, res, secret } of carriers) {
      expect(res.status, what).toBe(201);
      expect(typeof secret, what).toBe('string');
      expect(res.headers.get('cache-control'), what).toBe('no-store');
    }
  });

  it('errors, unknown routes, rate-limited answers and plain reads are no-store too', async () => {
    const answers = [
      await api.call('GET', '/v1/me', { token: org.accessToken }),
      await api.call('GET', `/v1/orgs/${org.orgId}/secrets`, { token: org.accessToken }),
      await api.call('GET', '/v1/me', { token: 'vat_wrong' }),
      await api.call('GET', '/v1/nope'),
      await api.call('GET', '/health'),
    ];
    for (let i = 0; i < 4; i++) answers.push(await api.call('POST', '/v1/agents/pair', { body: { pairingToken: 'x', name: 'n' } }));
    expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 401, 404, 200]);
    // The pairing exchange allows 3 a window here (one used above): the rest are 429 RATE_LIMITED.
    expect(answers.at(-1)!.status).toBe(429);
    for (const r of answers) expect(r.headers.get('cache-control'), `${r.status} ${r.text.slice(0, 60)}`).toBe('no-store');
  });

  it('the /agents page keeps its own policies (no-store shell, revalidated assets)', async () => {
    expect((await fetch(`${api.url}/agents`)).headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${api.url}/agents/assets/app.js`)).headers.get('cache-control')).toBe('no-cache');
  });
});
