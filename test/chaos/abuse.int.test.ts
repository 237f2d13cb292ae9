/**
 * Abuse cases against the running processes (gateway, api, worker): oversized frames, a storm of bad
 * upgrades, query-string / revoked / unknown tokens, expired / replayed / concurrently used pairing
 * tokens, forged results from another agent and another org, request ids guessed across orgs,
 * X-Org-Id spoofing, account takeover through "add member" with another org's owner's email, a token
 * minted in one org sent to another, cacheable secrets, tampered secret ciphertext, workdir path escapes,
 * SSRF from cloud-mode connectors, a sandbox filling its disk and a node choosing another image. Each must
 * end in a clear code, never a crash, and no planted secret may appear in any log, event, stored result or
 * response.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../services.js';
import { bootstrapOrganization } from './lib/deps.js';
import { killAll } from './lib/procs.js';
import { type RawAgent, provisionAgent, rawAgent } from './lib/raw-agent.js';
import { leaks, record } from './lib/report.js';
import { SCALE } from './lib/scale.js';
import { type ChaosStack, startChaosStack } from './lib/stack.js';
import { httpNode, startTarget, type Target } from './lib/target.js';

await describeWith(['postgres', 'redis', 'docker'], 'chaos: abuse cases', () => {
  let stack: ChaosStack;
  let target: Target;
  const canary = `canary-abuse-${randomBytes(12).toString('hex')}`;
  const canaries: string[] = [canary];
  const responses: string[] = [];
  const open: RawAgent[] = [];
  const figures: Record<string, unknown> = {};

  const internal = async (method: string, path: string, body?: unknown, token = stack.serviceToken) => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
  const dispatchBody = (organizationId: string, extra: Record<string, unknown> = {}) => ({
    organizationId,
    requestId: `${randomUUID()}:n:0`,
    kind: 'connector.action',
    payload: { connectorId: 'http', actionId: 'request', input: { url: `${target.url}/x` } },
    timeoutMs: 10_000,
    ...extra,
  });
  const agent = async (orgId: string, name: string, tags: string[] = []) => {
    const p = await provisionAgent(stack.pool, orgId, name, tags);
    canaries.push(p.token);
    const a = await rawAgent(stack.gatewayWsUrl, p.token, { sendHello: true });
    open.push(a);
    return { ...p, ws: a };
  };

  beforeAll(async () => {
    target = await startTarget();
    stack = await startChaosStack({ name: 'abuse' });
    canaries.push(stack.serviceToken, stack.accessToken);
    await stack.start();
  }, 120_000);

  afterAll(async () => {
    for (const a of open) await a.close();
    if (stack) {
      const found = leaks(canaries, [stack.allLogs(), ...responses]);
      record('abuse', { ...figures, canaries: canaries.length, responsesScanned: responses.length, leaked: found.length });
      await stack.close();
      await target?.close();
      await killAll();
      expect(found).toEqual([]);
    }
    await target?.close();
    await killAll();
  }, 60_000);

  it('oversized frames close the session with 1009; the gateway keeps serving', async () => {
    const a = await agent(stack.orgId, 'big');
    a.ws.send(JSON.stringify({ type: 'ping', ts: 1, pad: 'x'.repeat(2 * 1024 * 1024) }));
    const { code } = await a.ws.closed;
    expect(code).toBe(1009);
    expect((await fetch(`${stack.gatewayUrl}/healthz`)).status).toBe(200);
  });

  it(`${SCALE.badUpgrades} concurrent upgrades with bad tokens: all 401 with a JSON code, a good agent stays connected`, async () => {
    const good = await agent(stack.orgId, 'good');
    const bad = [
      () => undefined,
      () => `${stack.orgId}.${randomBytes(32).toString('base64url')}`,
      () => 'not-a-token',
      () => `${randomUUID()}.${randomBytes(32).toString('base64url')}`,
    ];
    const statuses = new Map<number | string, number>();
    const results = await Promise.allSettled(
      Array.from({ length: SCALE.badUpgrades }, (_, i) => rawAgent(stack.gatewayWsUrl, bad[i % bad.length]!(), { sendHello: true })),
    );
    for (const r of results) {
      const key = r.status === 'rejected' ? ((r.reason as { status?: number }).status ?? (r.reason as Error).message) : 'accepted';
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (r.status === 'rejected') {
        const body = (r.reason as { body?: string }).body;
        if (body) responses.push(body);
      } else await r.value.close();
    }
    figures.badUpgrades = Object.fromEntries(statuses);
    expect(Object.fromEntries(statuses)).toEqual({ 401: SCALE.badUpgrades });
    good.ws.send({ type: 'ping', ts: 7 });
    expect((await good.ws.next('pong')).ts).toBe(7);
  }, 120_000);

  it('query-string tokens are refused (401); revoked tokens get 403', async () => {
    const p = await provisionAgent(stack.pool, stack.orgId, 'qs');
    canaries.push(p.token);
    const qs = await rawAgent(`${stack.gatewayWsUrl}?token=${encodeURIComponent(p.token)}`, undefined).catch((e: { status?: number }) => e);
    expect((qs as { status?: number }).status).toBe(401);
    const qs2 = await rawAgent(
      `${stack.gatewayWsUrl}?access_token=${encodeURIComponent(p.token)}&authorization=Bearer%20${encodeURIComponent(p.token)}`,
      undefined,
    ).catch((e: { status?: number }) => e);
    expect((qs2 as { status?: number }).status).toBe(401);
    await stack.ok('POST', `/v1/orgs/${stack.orgId}/agents/${p.agentId}/revoke`);
    const revoked = await rawAgent(stack.gatewayWsUrl, p.token).catch((e: { status?: number; body?: string }) => e);
    expect((revoked as { status?: number }).status).toBe(403);
    expect(JSON.parse((revoked as { body: string }).body)).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/) });
  });

  it('a live session of a revoked agent is closed with 4403', async () => {
    const a = await agent(stack.orgId, 'to-revoke');
    await stack.ok('POST', `/v1/orgs/${stack.orgId}/agents/${a.agentId}/revoke`);
    expect((await a.ws.closed).code).toBe(4403);
  });

  it('pairing tokens: expired, replayed and raced (20 concurrent exchanges) — exactly one agent is created', async () => {
    const pair = async (pairingToken: string) => {
      const res = await fetch(`${stack.apiUrl}/v1/agents/pair`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pairingToken, name: 'p' }),
      });
      const text = await res.text();
      // A successful exchange returns the new agent token once, by design: scan only the refusals.
      if (res.status !== 201) responses.push(text);
      return { status: res.status, body: JSON.parse(text) as Record<string, any> };
    };
    const mint = async () => (await stack.ok('POST', `/v1/orgs/${stack.orgId}/agents/pairing-tokens`)).pairingToken as string;
    const expired = await mint();
    canaries.push(expired);
    await stack.pool.query("UPDATE agent_pairing_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
    expect(await pair(expired)).toMatchObject({ status: 400, body: { code: 'PAIRING_TOKEN_EXPIRED' } });

    const once = await mint();
    canaries.push(once);
    const first = await pair(once);
    expect(first.status).toBe(201);
    canaries.push(first.body.agentToken);
    expect(await pair(once)).toMatchObject({ body: { code: 'PAIRING_TOKEN_INVALID' } });

    const raced = await mint();
    canaries.push(raced);
    const results = await Promise.all(Array.from({ length: 20 }, () => pair(raced)));
    const won = results.filter((r) => r.status === 201);
    for (const w of won) canaries.push(w.body.agentToken);
    figures.pairingRace = { attempts: 20, created: won.length };
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status !== 201).every((r) => r.body.code === 'PAIRING_TOKEN_INVALID')).toBe(true);
  });

  it('a result forged by another agent of the org or an agent of another org is dropped; the real one is stored', async () => {
    const org2 = await bootstrapOrganization(stack.pool, { orgName: 'Other', email: `o2-${randomUUID()}@chaos.test` });
    canaries.push(org2.accessToken);
    const real = await agent(stack.orgId, 'real', ['forge']);
    const sibling = await agent(stack.orgId, 'sibling');
    const foreign = await agent(org2.orgId, 'foreign');
    const body = dispatchBody(stack.orgId, { selector: { tag: 'forge' } });
    expect((await internal('POST', '/internal/v1/dispatch-async', body)).status).toBe(201);
    const exec = await real.ws.next('execute');
    expect(exec.requestId).toBe(body.requestId);
    const forged = { type: 'execute_result', requestId: body.requestId, status: 'succeeded', output: { forged: true } };
    sibling.ws.send(forged);
    foreign.ws.send(forged);
    // Each socket's frames are handled in order: a pong on both means the forged results were taken.
    for (const forger of [sibling, foreign]) {
      forger.ws.send({ type: 'ping', ts: 1 });
      await forger.ws.next('pong');
    }
    expect((await internal('GET', `/internal/v1/results/${encodeURIComponent(body.requestId)}`)).status).toBe(404);
    real.ws.send({ type: 'execute_result', requestId: body.requestId, status: 'succeeded', output: { real: true } });
    await real.ws.next('execute_ack');
    const stored = await internal('GET', `/internal/v1/results/${encodeURIComponent(body.requestId)}`);
    expect(stored.status).toBe(200);
    expect(JSON.stringify(stored.body)).toContain('"real":true');
    expect(JSON.stringify(stored.body)).not.toContain('forged');
    // The forgers' sessions are not rewarded with an ack.
    expect(sibling.ws.frames.some((f) => f.type === 'execute_ack')).toBe(false);
    expect(foreign.ws.frames.some((f) => f.type === 'execute_ack')).toBe(false);

    // A request id guessed across orgs: the other org's dispatch with the same id is not served org 1's result.
    const guessed = await internal('POST', '/internal/v1/dispatch-async', { ...body, organizationId: org2.orgId, selector: undefined });
    figures.crossOrgGuess = { status: guessed.status, body: guessed.body };
    expect(JSON.stringify(guessed.body)).not.toContain('"real":true');
    expect(guessed.body?.cached).not.toBe(true);
  });

  it('X-Org-Id spoofing: a member of one org cannot read or act on another org', async () => {
    const org2 = await bootstrapOrganization(stack.pool, { orgName: 'Victim', email: `v-${randomUUID()}@chaos.test` });
    canaries.push(org2.accessToken);
    const attempts: Array<{ path: string; headers: Record<string, string> }> = [
      { path: `/v1/orgs/${org2.orgId}/agents`, headers: { 'x-org-id': org2.orgId } },
      { path: `/v1/orgs/${org2.orgId}/agents`, headers: { 'x-org-id': stack.orgId } },
      { path: `/v1/orgs/${stack.orgId}/agents`, headers: { 'x-org-id': org2.orgId } },
      { path: `/v1/orgs/${org2.orgId}/secrets`, headers: { 'x-org-id': org2.orgId } },
      { path: `/v1/orgs/${org2.orgId}/workflows`, headers: { 'x-org-id': org2.orgId, 'x-forwarded-for': '10.0.0.1' } },
    ];
    const statuses: number[] = [];
    for (const a of attempts) {
      const r = await stack.call('GET', a.path, undefined, a.headers);
      responses.push(r.text);
      statuses.push(r.status);
      expect(r.status, a.path).toBeGreaterThanOrEqual(400);
      expect(r.status, a.path).toBeLessThan(500);
      expect(r.body).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/) });
    }
    const pt = await stack.call('POST', `/v1/orgs/${org2.orgId}/agents/pairing-tokens`, undefined, { 'x-org-id': org2.orgId });
    responses.push(pt.text);
    expect(pt.status).toBeGreaterThanOrEqual(400);
    figures.orgSpoofing = { attempts: attempts.length + 1, statuses: [...statuses, pt.status] };
  });

  it("add member with the email of another org's owner yields no credential; a token opens only the org it was minted in", async () => {
    // Raw api calls with a chosen token (or none); the answers that must carry no secret are scanned.
    const api = async (method: string, path: string, token: string | undefined, body?: unknown, scan = true) => {
      const orgId = /^\/v1\/orgs\/([^/]+)/.exec(path)?.[1];
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(orgId ? { 'x-org-id': orgId } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (scan) responses.push(text);
      return {
        status: res.status,
        text,
        body: text ? (JSON.parse(text) as Record<string, any>) : undefined,
        cache: res.headers.get('cache-control'),
      };
    };
    const victimEmail = `owner-${randomUUID()}@chaos.test`;
    const victim = await bootstrapOrganization(stack.pool, { orgName: 'Takeover target', email: victimEmail });
    canaries.push(victim.accessToken);

    // The reported attack: the owner of the Chaos org adds the victim's email and got an access token for it.
    const added = await api('POST', `/v1/orgs/${stack.orgId}/members`, stack.accessToken, { email: victimEmail, role: 'member' }, false);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ status: 'invited', email: victimEmail });
    expect(added.body!.accessToken).toBeUndefined();
    expect(added.text).not.toMatch(/vat_/);
    expect(added.cache).toBe('no-store');
    canaries.push(added.body!.invitationToken);
    const anonymous = await api('POST', '/v1/invitations/accept', undefined, { invitationToken: added.body!.invitationToken });
    const asAttacker = await api('POST', '/v1/invitations/accept', stack.accessToken, { invitationToken: added.body!.invitationToken });
    expect([anonymous.status, anonymous.body!.code, asAttacker.status, asAttacker.body!.code]).toEqual([
      401,
      'UNAUTHORIZED',
      403,
      'FORBIDDEN',
    ]);
    const intoVictim = [
      await api('GET', `/v1/orgs/${victim.orgId}/secrets`, stack.accessToken),
      await api('POST', `/v1/orgs/${victim.orgId}/agents/pairing-tokens`, stack.accessToken),
    ];
    expect(intoVictim.map((r) => r.status)).toEqual([403, 403]);
    const tokens = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access_tokens WHERE user_id = $1', [
      victim.userId,
    ]);
    expect(tokens.rows[0]!.n).toBe(1);

    // The victim accepts with their own token: the new one opens the Chaos org only, not their own.
    const joined = await api('POST', '/v1/invitations/accept', victim.accessToken, { invitationToken: added.body!.invitationToken }, false);
    expect(joined.status).toBe(201);
    expect(joined.cache).toBe('no-store');
    canaries.push(joined.body!.accessToken);
    const me = await api('GET', '/v1/me', joined.body!.accessToken);
    expect(me.body!.memberships).toEqual([{ organizationId: stack.orgId, name: 'Chaos', role: 'member' }]);
    const crossed = [
      await api('GET', `/v1/orgs/${victim.orgId}/secrets`, joined.body!.accessToken),
      await api('GET', `/v1/orgs/${victim.orgId}/agents`, joined.body!.accessToken),
      await api('GET', `/v1/orgs/${stack.orgId}/secrets`, victim.accessToken),
    ];
    expect(crossed.map((r) => [r.status, r.body!.code])).toEqual([
      [403, 'FORBIDDEN'],
      [403, 'FORBIDDEN'],
      [403, 'FORBIDDEN'],
    ]);
    // Re-adding the owner's own email to demote them is a conflict; the role stays.
    const ownerEmail = (await stack.pool.query('SELECT email FROM users WHERE id = $1', [victim.userId])).rows[0].email;
    const demote = await api('POST', `/v1/orgs/${victim.orgId}/members`, victim.accessToken, { email: ownerEmail, role: 'member' });
    expect(demote.status).toBe(409);
    const role = await stack.pool.query('SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2', [
      victim.orgId,
      victim.userId,
    ]);
    expect(role.rows[0].role).toBe('owner');
    figures.addMemberTakeover = {
      invite: added.status,
      redeemAnonymous: anonymous.status,
      redeemAsAttacker: asAttacker.status,
      attackerIntoVictimOrg: intoVictim.map((r) => r.status),
      tokenOfOtherOrg: crossed.map((r) => r.status),
      demoteOwner: demote.status,
    };
  });

  it('every answer that carries a secret (pairing, agent, invitation, access token) is Cache-Control: no-store', async () => {
    const post = async (path: string, body: unknown, token?: string) => {
      const orgId = /^\/v1\/orgs\/([^/]+)/.exec(path)?.[1];
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(orgId ? { 'x-org-id': orgId } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as Record<string, any> };
    };
    const pairing = await post(`/v1/orgs/${stack.orgId}/agents/pairing-tokens`, {}, stack.accessToken);
    const paired = await post('/v1/agents/pair', { pairingToken: pairing.body.pairingToken, name: 'cache-probe' });
    const invited = await post(
      `/v1/orgs/${stack.orgId}/members`,
      { email: `c-${randomUUID()}@chaos.test`, role: 'member' },
      stack.accessToken,
    );
    const accepted = await post('/v1/invitations/accept', { invitationToken: invited.body.invitationToken });
    const refused = await post('/v1/invitations/accept', { invitationToken: invited.body.invitationToken });
    canaries.push(pairing.body.pairingToken, paired.body.agentToken, invited.body.invitationToken, accepted.body.accessToken);
    const all = { pairing, paired, invited, accepted, refused };
    for (const [what, r] of Object.entries(all)) expect(r.cache, what).toBe('no-store');
    expect([pairing.status, paired.status, invited.status, accepted.status, refused.status]).toEqual([201, 201, 201, 201, 404]);
    figures.cacheControl = Object.fromEntries(Object.entries(all).map(([k, r]) => [k, `${r.status} ${r.cache}`]));
  });

  it('tampered secret ciphertext: the node fails with SECRET_DECRYPT_FAILED, nothing of the secret leaks', async () => {
    const a = await stack.startAgent('tamper', 'group:tamper');
    void a;
    const secret = await stack.ok('POST', `/v1/orgs/${stack.orgId}/secrets`, { name: 'tampered', connectorId: 'http', value: canary });
    const cols = await stack.pool.query<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'connector_secrets'",
      [stack.schema],
    );
    const ct = cols.rows.find((c) => /cipher/.test(c.column_name))!;
    expect(ct).toBeDefined();
    // Flip the first byte of the ciphertext (bytea or base64 text).
    if (ct.data_type === 'bytea')
      await stack.pool.query(
        `UPDATE connector_secrets SET ${ct.column_name} = set_byte(${ct.column_name}, 0, get_byte(${ct.column_name}, 0) # 1) WHERE id = $1`,
        [secret.id],
      );
    else
      await stack.pool.query(
        `UPDATE connector_secrets SET ${ct.column_name} = encode(set_byte(decode(${ct.column_name}, 'base64'), 0, get_byte(decode(${ct.column_name}, 'base64'), 0) # 1), 'base64') WHERE id = $1`,
        [secret.id],
      );
    const wf = await stack.workflow('tamper', [
      httpNode('t', target.url, 'tamper', { selector: { group: 'tamper' }, secretId: secret.id }),
    ]);
    const runId = await stack.startRun(wf);
    const [run] = await stack.waitRuns([runId], 60_000);
    expect(run!.status).toBe('failed');
    expect(run!.events.at(-1)).toMatchObject({ type: 'run_failed', payload: { error: { code: 'SECRET_DECRYPT_FAILED' } } });
    expect(target.hits.get('/tamper')).toBeUndefined();
    expect(leaks([canary], [JSON.stringify(run), stack.allLogs()])).toEqual([]);
    figures.tamperedSecret = { status: run!.status, code: 'SECRET_DECRYPT_FAILED' };
  });

  it('path escapes in workdir inputs are refused (bad request ids at the API, WORKDIR_ESCAPE on the agent)', async () => {
    const escapes = ['../../etc/passwd:n:0', 'a/../../b:n:0', '..:..:0', '/abs:n:0', 'a\\..\\b:n:0', 'a\u0000b:n:0'];
    for (const requestId of escapes) {
      const r = await internal('POST', '/internal/v1/dispatch-async', dispatchBody(stack.orgId, { requestId }));
      expect(r.status, requestId).toBe(400);
      expect(r.body).toMatchObject({ code: 'BAD_REQUEST' });
    }
    // A valid request id whose payload names a climbing run location reaches a real sandbox agent, which refuses it.
    await stack.startAgent('sbx-escape', 'escape', {
      VESPID_AGENT_EXEC_BACKEND: 'docker',
      VESPID_AGENT_DOCKER_IMAGE: 'vespid/sandbox-busybox:test',
    });
    const payloads = [
      { runId: '..', nodeId: 'n', attempt: 0 },
      { runId: 'r', nodeId: '../../../tmp', attempt: 0 },
      { runId: '.hidden', nodeId: 'n', attempt: 0 },
      { runId: 'r/../../x', nodeId: 'n', attempt: 0 },
    ];
    const codes: string[] = [];
    for (const run of payloads) {
      const body = dispatchBody(stack.orgId, {
        kind: 'agent.execute',
        payload: { task: { type: 'shell', script: 'pwd' }, run },
        selector: { tag: 'escape' },
      });
      const r = await internal('POST', '/internal/v1/dispatch', body);
      expect(r.status, JSON.stringify(run)).toBe(200);
      expect(r.body, JSON.stringify(run)).toMatchObject({ status: 'failed', error: { code: 'WORKDIR_ESCAPE' } });
      codes.push(r.body!.error.code);
    }
    expect(existsSync(join(stack.tmp, 'tmp'))).toBe(false);
    figures.pathEscapes = { requestIds: escapes.length, payloads: payloads.length, codes };
  });
  it('SSRF: cloud-mode http nodes cannot reach loopback (any notation) or cloud metadata; node mode still reaches the private target', async () => {
    const gw = new URL(stack.gatewayUrl);
    const tgt = new URL(target.url);
    const closedPort = 1; // nothing listens there: the answer must not differ from the open gateway port
    const cloudNode = (id: string, url: string) => ({
      id,
      type: 'connector.action',
      config: { connectorId: 'http', actionId: 'request', input: { url }, execution: { mode: 'cloud' } },
    });
    const urls = [
      `${stack.gatewayUrl}/metrics`,
      `http://2130706433:${gw.port}/metrics`,
      `http://0x7f.1:${gw.port}/metrics`,
      `http://[::ffff:127.0.0.1]:${gw.port}/metrics`,
      `http://localhost:${gw.port}/metrics`,
      `http://127.0.0.1:${closedPort}/metrics`,
      `http://169.254.169.254/latest/meta-data/`,
      `http://127.1:${tgt.port}/ssrf-cloud`,
    ];
    const runIds: string[] = [];
    for (const [i, url] of urls.entries()) runIds.push(await stack.startRun(await stack.workflow(`ssrf-${i}`, [cloudNode('n', url)])));
    const runs = await stack.waitRuns(runIds, 60_000);
    const messages = new Set<string>();
    for (const run of runs) {
      expect(run.status, run.id).toBe('failed');
      const failed = run.events.find((e) => e.type === 'node_failed')!;
      expect(failed.payload, run.id).toMatchObject({ error: { code: 'DESTINATION_NOT_ALLOWED' }, willRetry: false });
      messages.add(String((failed.payload.error as { message: string }).message).replace(/destination \S+/, 'destination X'));
      expect(JSON.stringify(run)).not.toContain('vespid_gateway');
    }
    // One message for every refused target: open port, closed port, metadata, loopback names.
    expect(messages.size).toBe(1);
    expect(target.hits.get('/ssrf-cloud')).toBeUndefined();
    // Node mode reaches the customer's private network by design: the same loopback target through an agent.
    await stack.startAgent('ssrf-node', 'group:ssrf');
    const nodeRun = await stack.startRun(
      await stack.workflow('ssrf-node', [httpNode('n', target.url, 'ssrf-node', { selector: { group: 'ssrf' } })]),
    );
    const [ok] = await stack.waitRuns([nodeRun], 60_000);
    expect(ok!.status).toBe('succeeded');
    expect(target.hits.get('/ssrf-node')).toBe(1);
    figures.ssrf = { cloudTargets: urls.length, refused: runs.length, distinctMessages: messages.size, nodeModeReached: true };
  });

  it('sandbox limits: a script filling /work gets ENOSPC (DOCKER_WORKDIR_FULL); a node naming another host image gets IMAGE_NOT_ALLOWED', async () => {
    await stack.startAgent('sbx-limits', 'limits', {
      VESPID_AGENT_EXEC_BACKEND: 'docker',
      VESPID_AGENT_DOCKER_IMAGE: 'vespid/sandbox-busybox:test',
      VESPID_AGENT_DOCKER_WORKDIR_MAX_MB: '16',
    });
    const exec = (payload: unknown) =>
      internal('POST', '/internal/v1/dispatch', dispatchBody(stack.orgId, { kind: 'agent.execute', payload, selector: { tag: 'limits' } }));
    // 1 GiB asked for, 16 MiB allowed: the write stops at the limit, nothing lands on the host disk.
    const fill = await exec({ task: { type: 'shell', script: 'dd if=/dev/zero of=/work/fill bs=1M count=1024; exit $?' } });
    expect(fill.status).toBe(200);
    expect(fill.body).toMatchObject({ status: 'failed', error: { code: 'DOCKER_WORKDIR_FULL' } });
    expect(fill.body!.output.stderr).toMatch(/No space left on device/);
    // The node image exists on this host, but the operator did not list it.
    const other = await exec({
      task: { type: 'shell', script: 'cat /etc/os-release' },
      sandbox: { docker: { image: 'vespid/sandbox-node:test' } },
    });
    expect(other.body).toMatchObject({ status: 'failed', error: { code: 'IMAGE_NOT_ALLOWED' } });
    figures.sandboxLimits = { diskFill: fill.body!.error.code, otherImage: other.body!.error.code };
  });
});
