/**
 * Fuzz of every input surface of the running processes: each agent → gateway WS message type (hello,
 * ping, execute_received, execute_result, plus unknown and gateway-only types, random JSON, broken
 * JSON and binary frames), the gateway's internal HTTP routes and the api's JSON bodies — schema-guided
 * mutations of valid values and random inputs. Each case must end with a clear outcome (a 44xx/1009
 * close, or a 4xx/503 `{code, message}` body), never a 5xx, a crash or an unhandled rejection.
 */
import { randomUUID } from 'node:crypto';
import { parseAgentMessage } from '@vespid/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../services.js';
import { bootstrapOrganization } from './lib/deps.js';
import { randomText } from './lib/fuzz.js';
import { killAll } from './lib/procs.js';
import { hello, provisionAgent, rawAgent } from './lib/raw-agent.js';
import { leaks, record } from './lib/report.js';
import { SCALE, SEED, prng } from './lib/scale.js';
import { type ChaosStack, startChaosStack } from './lib/stack.js';

await describeWith(['postgres', 'redis'], 'chaos: fuzz of WS frames and HTTP bodies', () => {
  let stack: ChaosStack;
  let emptyOrg: string;
  const canaries: string[] = [];
  const responses: string[] = [];
  const rng = prng(SEED);

  beforeAll(async () => {
    stack = await startChaosStack({ name: 'fuzz' });
    canaries.push(stack.serviceToken, stack.accessToken);
    await stack.startGateway();
    await stack.startApi();
    emptyOrg = (await bootstrapOrganization(stack.pool, { orgName: 'Empty', email: `e-${randomUUID()}@chaos.test` })).orgId;
  }, 120_000);

  afterAll(async () => {
    if (stack) {
      const logs = stack.allLogs();
      const found = leaks(canaries, [logs, ...responses]);
      record('fuzz.canaries', { canaries: canaries.length, responsesScanned: responses.length, leaked: found.length });
      const alive = { gateway: stack.hosts.gateway?.alive(), api: stack.hosts.api?.alive() };
      // Clean up first: a failed expectation below must not leave processes or the schema behind.
      await stack.close();
      await killAll();
      // No host died, none logged an unhandled rejection or an uncaught exception.
      expect(alive).toEqual({ gateway: true, api: true });
      expect(logs).not.toMatch(/unhandled ?rejection|uncaught ?exception/i);
      expect(found).toEqual([]);
    }
    await killAll();
  }, 60_000);

  it('WS: every agent message type, mutated and random, gets a clear close code or is served', async () => {
    const execId = () => `${randomUUID()}:n:0`;
    const valid: Array<() => Record<string, unknown>> = [
      () => hello('fuzz'),
      () => ({ type: 'ping', ts: Date.now() }),
      () => ({ type: 'execute_received', requestId: execId() }),
      () => ({ type: 'execute_result', requestId: execId(), status: 'succeeded', output: { ok: 1 } }),
      () => ({ type: 'execute_result', requestId: execId(), status: 'failed', error: { code: 'CONNECTOR_ERROR', message: 'x' } }),
      () => ({ type: 'execute', requestId: execId(), organizationId: stack.orgId, kind: 'connector.action', payload: {}, timeoutMs: 1000 }),
      () => ({ type: 'hello_ack', sessionId: 's', agentId: 'a', organizationId: stack.orgId, heartbeatMs: 1000 }),
      () => ({ type: 'no_such_type' }),
    ];
    const workers = 8;
    const tokens = await Promise.all(Array.from({ length: workers }, (_, i) => provisionAgent(stack.pool, stack.orgId, `fuzz-${i}`)));
    canaries.push(...tokens.map((t) => t.token));
    const codes: Record<string, number> = {};
    const problems: string[] = [];
    let cases = 0;
    let validCases = 0;
    const perWorker = Math.ceil(SCALE.fuzzCasesPerTarget / workers);
    await Promise.all(
      tokens.map(async ({ token }, w) => {
        for (let i = 0; i < perWorker; i++) {
          const afterHello = rng() < 0.7;
          const base = valid[(w + i) % valid.length]!();
          const binary = rng() < 0.04;
          const text = randomText(rng, base);
          const ok = !binary && parseAgentMessage(text).ok;
          const agent = await rawAgent(stack.gatewayWsUrl, token, { sendHello: afterHello });
          agent.send(binary ? Buffer.from(text) : text);
          // A ping after the case proves the session still works (or the close tells why it does not).
          agent.send({ type: 'ping', ts: i });
          const outcome = await Promise.race([
            agent.closed.then((c) => `close:${c.code}`),
            agent.next('pong', 3000).then(
              () => 'alive',
              () => 'silent',
            ),
          ]);
          await agent.close();
          cases++;
          if (ok) validCases++;
          codes[outcome] = (codes[outcome] ?? 0) + 1;
          const allowed = ok ? /^(alive|close:4400)$/ : /^close:(4400|1009)$/;
          if (!allowed.test(outcome))
            problems.push(`${afterHello ? 'after hello' : 'first frame'} ${ok ? 'valid' : 'invalid'} ${text.slice(0, 120)} → ${outcome}`);
        }
      }),
    );
    record('fuzz.ws', { cases, schemaValidCases: validCases, outcomes: codes, problems: problems.length });
    expect(problems).toEqual([]);
    expect((await fetch(`${stack.gatewayUrl}/healthz`)).status).toBe(200);
  }, 300_000);

  it('HTTP: gateway internal routes answer 4xx/503 with {code, message} for every bad body, never 5xx', async () => {
    const validDispatch = () => ({
      organizationId: emptyOrg,
      requestId: `${randomUUID()}:n:0`,
      kind: 'connector.action',
      payload: { connectorId: 'http', actionId: 'request', input: {} },
      selector: { tag: 'east' },
      timeoutMs: 1000,
    });
    const routes = ['/internal/v1/dispatch-async', '/internal/v1/dispatch', '/internal/v1/explain'];
    const statuses: Record<string, number> = {};
    const problems: string[] = [];
    let cases = 0;
    const one = async (i: number) => {
      const r = rng();
      let method = 'POST';
      let path = routes[i % routes.length]!;
      let auth: string | undefined = `Bearer ${stack.serviceToken}`;
      if (r < 0.1) {
        method = 'GET';
        path = `/internal/v1/results/${encodeURIComponent(randomText(rng, { x: 1 }).slice(0, 300))}`;
      } else if (r < 0.15) auth = rng() < 0.5 ? undefined : `Bearer ${randomUUID()}`;
      const body = method === 'POST' ? randomText(rng, validDispatch()) : undefined;
      const res = await fetch(`${stack.gatewayUrl}${path}`, {
        method,
        headers: { ...(auth ? { authorization: auth } : {}), 'content-type': rng() < 0.9 ? 'application/json' : 'text/plain' },
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      responses.push(text);
      cases++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      let json: { code?: unknown; message?: unknown } | undefined;
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        json = undefined;
      }
      if (res.status >= 500 && res.status !== 503)
        problems.push(`${method} ${path} ${body?.slice(0, 100)} → ${res.status} ${text.slice(0, 100)}`);
      else if (res.status >= 400 && (typeof json?.code !== 'string' || typeof json?.message !== 'string'))
        problems.push(`${method} ${path} → ${res.status} without {code, message}: ${text.slice(0, 100)}`);
    };
    for (let i = 0; i < SCALE.fuzzCasesPerTarget; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => one(i + j)));
    record('fuzz.gateway-http', { cases, statuses, problems: problems.length });
    expect(problems).toEqual([]);
  }, 300_000);

  it('HTTP: api JSON bodies (workflows, secrets, tags, pairing, members, invitations, runs) answer 4xx with {code, message}, never 5xx', async () => {
    const agent = await provisionAgent(stack.pool, stack.orgId, 'tags-target');
    canaries.push(agent.token);
    const node = {
      id: 'n1',
      type: 'connector.action',
      config: { connectorId: 'http', actionId: 'request', input: {}, execution: { mode: 'node', selector: { group: 'g' } } },
    };
    const wf = await stack.ok('POST', `/v1/orgs/${stack.orgId}/workflows`, {
      name: 'fuzz',
      dsl: { version: 1, trigger: { type: 'trigger.manual' }, nodes: [node] },
    });
    await stack.call('POST', `/v1/orgs/${stack.orgId}/workflows/${wf.id}/publish`);
    const o = `/v1/orgs/${stack.orgId}`;
    const ownerId = (await stack.pool.query('SELECT user_id FROM memberships WHERE organization_id = $1', [stack.orgId])).rows[0].user_id;
    const targets: Array<{ method: string; path: string; valid: Record<string, unknown>; auth?: boolean }> = [
      {
        method: 'POST',
        path: `${o}/workflows`,
        valid: { name: 'w', dsl: { version: 1, trigger: { type: 'trigger.manual' }, nodes: [node] } },
      },
      {
        method: 'PUT',
        path: `${o}/workflows/${wf.id}`,
        valid: { name: 'w2', dsl: { version: 1, trigger: { type: 'trigger.manual' }, nodes: [node] } },
      },
      { method: 'POST', path: `${o}/secrets`, valid: { name: 's', connectorId: 'http', value: 'v' } },
      { method: 'PUT', path: `${o}/agents/${agent.agentId}/tags`, valid: { tags: ['east', 'group:alpha'] } },
      { method: 'POST', path: '/v1/agents/pair', valid: { pairingToken: `${stack.orgId}.abc`, name: 'x', tags: ['a'] }, auth: false },
      { method: 'POST', path: `${o}/members`, valid: { email: 'm@x.test', role: 'member' } },
      { method: 'PATCH', path: `${o}/members/${ownerId}`, valid: { role: 'admin' } },
      { method: 'POST', path: '/v1/invitations/accept', valid: { invitationToken: 'vinv_x' }, auth: false },
      { method: 'POST', path: `${o}/workflows/${wf.id}/runs`, valid: { input: { a: 1 } } },
    ];
    const statuses: Record<string, number> = {};
    const problems: string[] = [];
    let cases = 0;
    const one = async (i: number) => {
      const t = targets[i % targets.length]!;
      const body = randomText(rng, t.valid);
      const res = await fetch(`${stack.apiUrl}${t.path}`, {
        method: t.method,
        headers: {
          ...(t.auth === false ? {} : { authorization: `Bearer ${stack.accessToken}`, 'x-org-id': stack.orgId }),
          'content-type': rng() < 0.92 ? 'application/json' : pickType(),
        },
        body,
      });
      const text = await res.text();
      responses.push(text);
      cases++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      let json: { code?: unknown; message?: unknown } | undefined;
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        json = undefined;
      }
      if (res.status >= 500) problems.push(`${t.method} ${t.path} ${body.slice(0, 120)} → ${res.status} ${text.slice(0, 160)}`);
      else if (res.status >= 400 && (typeof json?.code !== 'string' || typeof json?.message !== 'string'))
        problems.push(`${t.method} ${t.path} → ${res.status} without {code, message}: ${text.slice(0, 100)}`);
    };
    const pickType = () => (rng() < 0.5 ? 'text/plain' : 'application/x-www-form-urlencoded');
    for (let i = 0; i < SCALE.fuzzCasesPerTarget * 2; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => one(i + j)));
    record('fuzz.api-http', { cases, statuses, problems: problems.length });
    expect(problems).toEqual([]);
  }, 300_000);
});
