import { CloseCode, ROUTES } from '@vespid/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultStore } from '../src/results/result-store.js';
import { type TestGateway, startTestGateway as startTest } from '../src/testing/index.js';

/**
 * The gateway's end-to-end scenarios over real WebSockets and HTTP, run once per result store
 * (memory in the unit project, Redis in the integration project).
 */
export function gatewayScenarios(storeName: string, newStore: () => ResultStore): void {
  describe(`gateway scenarios (${storeName} results)`, () => {
    const ORG = 'org-a';
    const OTHER = 'org-b';
    let t: TestGateway;
    let seq = 0;
    const rid = () => `run${++seq}:node:0`;
    const req = (extra: object = {}) => ({
      organizationId: ORG,
      requestId: rid(),
      kind: 'connector.action',
      payload: { connectorId: 'http', actionId: 'request', input: {} },
      ...extra,
    });

    afterEach(async () => {
      await t?.close();
    });

    // Every gateway the scenarios start gets a fresh store from the caller's factory.
    const startTestGateway = (options: Parameters<typeof startTest>[0] = {}) => startTest({ resultStore: newStore(), ...options });

    describe('dispatch over real WebSockets', () => {
      it('round-trips a dispatch through the HTTP route and stores the result', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        a.autoRespond();
        const body = req();
        const res = await t.call('POST', ROUTES.dispatch, body);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ requestId: body.requestId, status: 'succeeded', output: { echo: body.payload } });
        const stored = await t.call('GET', `${ROUTES.results}/${encodeURIComponent(body.requestId)}`);
        expect(stored.status).toBe(200);
        expect(stored.body).toMatchObject({ requestId: body.requestId, organizationId: ORG, agentId: 'a', status: 'succeeded' });
        expect((await a.next('execute_ack')).requestId).toBe(body.requestId);
      });

      it('round robin alternates a, b, a, b', async () => {
        t = await startTestGateway({ selection: 'round_robin' });
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        const b = await t.agent({ agentId: 'b', organizationId: ORG, tags: [] });
        a.autoRespond();
        b.autoRespond();
        const order: string[] = [];
        for (let i = 0; i < 6; i++) {
          const r = await t.gateway.dispatch(req());
          order.push(r.agentId ?? '?');
        }
        expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
      });

      it('least-in-flight picks the idle agent', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        const b = await t.agent({ agentId: 'b', organizationId: ORG, tags: [] });
        // Neither answers: the first dispatch keeps one agent busy.
        const first = await t.gateway.dispatchAsync(req());
        expect(first.dispatched).toBe(true);
        const busy = first.dispatched ? first.agentId : '';
        for (let i = 0; i < 3; i++) {
          const next = await t.gateway.dispatchAsync(req());
          // With one busy agent, the idle one is chosen; after that both have 1 and LRU breaks the tie.
          if (i === 0) expect(next.dispatched && next.agentId).toBe(busy === 'a' ? 'b' : 'a');
        }
        const sessions = t.gateway.listSessions();
        expect(sessions.map((s) => s.inFlight).sort()).toEqual([2, 2]);
        expect(a.received.length + b.received.length).toBeGreaterThan(0);
      });

      it('routes by agentId, tag, group, kind and connector', async () => {
        t = await startTestGateway();
        const east = await t.agent(
          { agentId: 'east', organizationId: ORG, tags: ['east', 'group:alpha'] },
          { capabilities: { connectors: ['http'] } },
        );
        const west = await t.agent(
          { agentId: 'west', organizationId: ORG, tags: ['west'] },
          { capabilities: { kinds: ['agent.execute'], tags: ['east'] } },
        );
        const gh = await t.agent(
          { agentId: 'gh', organizationId: ORG, tags: [] },
          { capabilities: { kinds: ['connector.action'], connectors: ['github'] } },
        );
        for (const x of [east, west, gh]) x.autoRespond();
        const exec = { kind: 'agent.execute', payload: { task: { type: 'shell', script: 'true' } } };
        expect(
          (await t.gateway.dispatch(req({ selector: { agentId: 'gh' }, payload: { connectorId: 'github', actionId: 'x', input: {} } })))
            .agentId,
        ).toBe('gh');
        expect((await t.gateway.dispatch(req({ ...exec, selector: { tag: 'west' } }))).agentId).toBe('west');
        expect((await t.gateway.dispatch(req({ ...exec, selector: { group: 'alpha' } }))).agentId).toBe('east');
        // `west` claims tag east in hello, but routing trusts control-plane tags only.
        for (let i = 0; i < 3; i++) expect((await t.gateway.dispatch(req({ ...exec, selector: { tag: 'east' } }))).agentId).toBe('east');
        for (let i = 0; i < 3; i++)
          expect((await t.gateway.dispatch(req({ payload: { connectorId: 'github', actionId: 'x', input: {} } }))).agentId).toBe('gh');
        for (let i = 0; i < 3; i++) expect((await t.gateway.dispatch(req())).agentId).toBe('east');
        // The agentId selector never crosses organizations.
        const res = await t.call('POST', ROUTES.dispatch, req({ organizationId: OTHER, selector: { agentId: 'east' } }));
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('NO_AGENT_AVAILABLE');
      });

      it('respects capacity, answers 503 with an explanation when full, and loses no agent', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [], maxInFlight: 2 }, { capabilities: { maxInFlight: 5 } });
        await t.gateway.dispatchAsync(req());
        await t.gateway.dispatchAsync(req());
        const full = await t.call('POST', ROUTES.dispatchAsync, req());
        expect(full.status).toBe(503);
        expect(full.body.code).toBe('NO_AGENT_AVAILABLE');
        expect(full.body.message).toContain('1 connected');
        expect(full.body.message).toContain('capacity 1');
        expect(full.body.details).toEqual({ connected: 1, excluded: { kind: 0, connector: 0, selector: 0, capacity: 1 } });
        expect(t.gateway.listSessions()).toHaveLength(1);
        // Finish one: capacity frees up and the same agent takes the next request.
        const [first] = a.received.filter((m) => m.type === 'execute');
        a.send({ type: 'execute_result', requestId: first!.type === 'execute' ? first!.requestId : '', status: 'succeeded' });
        await a.next('execute_ack');
        const again = await t.call('POST', ROUTES.dispatchAsync, req());
        expect(again.status).toBe(201);
        expect(again.body).toMatchObject({ dispatched: true, agentId: 'a' });
      });

      it('explains where a request would run (dry run)', async () => {
        t = await startTestGateway();
        await t.agent({ agentId: 'a', organizationId: ORG, tags: ['east'] }, { capabilities: { kinds: ['agent.execute'] } });
        await t.agent({ agentId: 'b', organizationId: ORG, tags: [] }, { capabilities: { connectors: ['github'] } });
        const none = await t.call('POST', ROUTES.explain, {
          organizationId: ORG,
          kind: 'connector.action',
          payload: { connectorId: 'http' },
        });
        expect(none.status).toBe(200);
        expect(none.body).toMatchObject({
          connected: 2,
          eligible: 0,
          excluded: { kind: 1, connector: 1, selector: 0, capacity: 0 },
          selected: null,
        });
        const some = t.gateway.explain({ organizationId: ORG, kind: 'agent.execute', selector: { tag: 'east' } });
        expect(some.selected?.agentId).toBe('a');
        expect(t.gateway.explain({ organizationId: OTHER, kind: 'agent.execute' }).connected).toBe(0);
      });

      it('does not send a duplicate requestId twice and returns the cached result', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        const body = req();
        const [r1, r2] = await Promise.all([t.call('POST', ROUTES.dispatchAsync, body), t.call('POST', ROUTES.dispatchAsync, body)]);
        expect([r1.status, r2.status].sort()).toEqual([200, 201]);
        // Both answers name the agent the request went to.
        const who = { agentId: 'a', agentName: 'test-agent' };
        expect([r1.body, r2.body].find((b) => !b.dispatched)).toEqual({
          requestId: body.requestId,
          dispatched: false,
          inFlight: true,
          ...who,
        });
        expect([r1.body, r2.body].find((b) => b.dispatched)).toEqual({ requestId: body.requestId, dispatched: true, ...who });
        a.send({ type: 'execute_result', requestId: body.requestId, status: 'succeeded', output: 1 });
        await a.next('execute_ack');
        const r3 = await t.call('POST', ROUTES.dispatchAsync, body);
        expect(r3).toEqual({ status: 200, body: { requestId: body.requestId, dispatched: false, cached: true } });
        const sync = await t.call('POST', ROUTES.dispatch, body);
        expect(sync.body).toEqual({ requestId: body.requestId, status: 'succeeded', output: 1 });
        expect(a.received.filter((m) => m.type === 'execute')).toHaveLength(1);
      });

      it('ignores forged results from another agent or org', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] }, { capabilities: { kinds: ['agent.execute'] } });
        const b = await t.agent({ agentId: 'b', organizationId: ORG, tags: [] }, { capabilities: { kinds: ['connector.action'] } });
        const x = await t.agent({ agentId: 'x', organizationId: OTHER, tags: [] });
        const body = req();
        const pending = t.gateway.dispatch(body);
        await b.next('execute');
        for (const forger of [a, x])
          forger.send({ type: 'execute_result', requestId: body.requestId, status: 'failed', error: { code: 'X', message: 'forged' } });
        await new Promise((r) => setTimeout(r, 100));
        expect(await t.gateway.getResult(body.requestId)).toBeNull();
        b.send({ type: 'execute_result', requestId: body.requestId, status: 'succeeded', output: 'real' });
        expect((await pending).output).toBe('real');
        expect(a.received.some((m) => m.type === 'execute_ack')).toBe(false);
        expect(x.received.some((m) => m.type === 'execute_ack')).toBe(false);
      });

      it('times out with NODE_EXECUTION_TIMEOUT and cancels on the agent', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        const r = await t.gateway.dispatch(req({ timeoutMs: 150 }));
        expect(r).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT' } });
        expect((await a.next('cancel')).reason).toBe('timeout');
        expect(t.gateway.listSessions()[0]?.inFlight).toBe(0);
      });

      it('waits for the resend after a reconnect, and fails AGENT_DISCONNECTED when none comes', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        const body = req({ timeoutMs: 3000 });
        const pending = t.gateway.dispatch(body);
        await a.next('execute');
        // Confirmed: the agent owns it now and will resend (an unconfirmed one fails at once, see in-flight-on-disconnect.test.ts).
        a.send({ type: 'execute_received', requestId: body.requestId });
        await new Promise((r) => setTimeout(r, 50));
        await a.close();
        const again = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        again.send({ type: 'execute_result', requestId: body.requestId, status: 'succeeded', output: 'after reconnect' });
        expect((await pending).output).toBe('after reconnect');

        const lost = req({ timeoutMs: 200 });
        const p2 = t.gateway.dispatch(lost);
        await again.next('execute');
        await again.close();
        expect(await p2).toMatchObject({ status: 'failed', error: { code: 'AGENT_DISCONNECTED' } });
      });
    });

    describe('sessions', () => {
      it('refuses upgrades without, with invalid and with revoked tokens', async () => {
        t = await startTestGateway();
        await expect(t.agent({ agentId: 'a', organizationId: ORG, tags: [] }, {})).resolves.toBeDefined();
        const { connectTestAgent } = await import('../src/testing/index.js');
        await expect(connectTestAgent({ url: t.wsUrl, token: `${ORG}.wrongwrongwrongwrongwrong` })).rejects.toThrow(
          /HTTP 401 .*UNAUTHORIZED/,
        );
        t.auth.set({ agentId: 'r', organizationId: ORG, tags: [], token: `${ORG}.revokedrevokedrevoked`, revoked: true });
        await expect(connectTestAgent({ url: t.wsUrl, token: `${ORG}.revokedrevokedrevoked` })).rejects.toThrow(/HTTP 403/);
      });

      it('closes revoked sessions with 4403 and never selects them again', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        expect(t.gateway.revokeAgent('a')).toBe(1);
        expect(await a.closedWith).toBe(CloseCode.Revoked);
        const res = await t.call('POST', ROUTES.dispatchAsync, req());
        expect(res.status).toBe(503);
        const { connectTestAgent } = await import('../src/testing/index.js');
        await expect(connectTestAgent({ url: t.wsUrl, token: a.token })).rejects.toThrow(/HTTP 403/);
      });

      it('closes stale sessions with 4408 and keeps pinging ones', async () => {
        t = await startTestGateway({ staleMs: 300, sweepIntervalMs: 50 });
        const silent = await t.agent({ agentId: 's', organizationId: ORG, tags: [] });
        const alive = await t.agent({ agentId: 'p', organizationId: ORG, tags: [] });
        const timer = setInterval(() => alive.send({ type: 'ping', ts: Date.now() }), 50);
        try {
          expect(await silent.closedWith).toBe(CloseCode.Stale);
          expect((await alive.next('pong')).type).toBe('pong');
          expect(
            t.gateway
              .listSessions()
              .filter((s) => s.state === 'ready')
              .map((s) => s.agentId),
          ).toEqual(['p']);
        } finally {
          clearInterval(timer);
        }
      });

      it('replaces an older session with 4409 without evicting the newer one', async () => {
        t = await startTestGateway();
        const old = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        const { connectTestAgent } = await import('../src/testing/index.js');
        const fresh = await connectTestAgent({ url: t.wsUrl, token: old.token });
        expect(await old.closedWith).toBe(CloseCode.Replaced);
        fresh.autoRespond();
        expect((await t.gateway.dispatch(req())).agentId).toBe('a');
        await fresh.close();
      });

      it('closes protocol violations with 4400 and oversize frames with 1009', async () => {
        t = await startTestGateway({ maxPayloadBytes: 4096 });
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        a.send('{not json');
        expect(await a.closedWith).toBe(CloseCode.ProtocolViolation);
        const b = await t.agent({ agentId: 'b', organizationId: ORG, tags: [] });
        b.send({ type: 'nope' });
        expect(await b.closedWith).toBe(CloseCode.ProtocolViolation);
        const c = await t.agent({ agentId: 'c', organizationId: ORG, tags: [] });
        c.send({ type: 'ping', ts: 1, pad: 'x'.repeat(10_000) });
        expect(await c.closedWith).toBe(CloseCode.MessageTooBig);
        const d = await t.agent({ agentId: 'd', organizationId: ORG, tags: [] }, { hello: false });
        d.send({ type: 'ping', ts: 1 });
        expect(await d.closedWith).toBe(CloseCode.ProtocolViolation);
      });

      it('routes new control-plane tags at once, without reconnect', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        a.autoRespond();
        const tagged = req({ selector: { tag: 'gpu' } });
        expect((await t.call('POST', ROUTES.dispatch, tagged)).status).toBe(503);
        expect(t.gateway.updateAgentTags('a', ['gpu'])).toBe(1);
        expect((await t.gateway.dispatch(req({ selector: { tag: 'gpu' } }))).agentId).toBe('a');
        t.gateway.updateAgentTags('a', []);
        expect((await t.call('POST', ROUTES.dispatch, req({ selector: { tag: 'gpu' } }))).status).toBe(503);
      });

      it('drains on close: drain then 1001, waiting dispatches fail GATEWAY_SHUTDOWN, new upgrades 503', async () => {
        t = await startTestGateway();
        const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
        const pending = t.gateway.dispatch(req());
        await a.next('execute');
        const closing = t.gateway.close({ timeoutMs: 2000 });
        await expect(pending).rejects.toMatchObject({ code: 'GATEWAY_SHUTDOWN' });
        expect((await a.next('drain')).reason).toContain('shutting down');
        expect(await a.closedWith).toBe(CloseCode.GoingAway);
        await closing;
        expect(t.gateway.closed).toBe(true);
        expect(t.server.listening).toBe(true);
        // attach() listeners are removed on close; a host that routes upgrades itself gets 503 from then on.
        const { createServer } = await import('node:http');
        const other = createServer();
        other.on('upgrade', (r, socket, head) => t.gateway.handleUpgrade(r, socket, head));
        await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
        try {
          const { connectTestAgent } = await import('../src/testing/index.js');
          const port = (other.address() as { port: number }).port;
          await expect(connectTestAgent({ url: `ws://127.0.0.1:${port}/ws`, token: a.token })).rejects.toThrow(
            /HTTP 503 .*GATEWAY_SHUTDOWN/,
          );
        } finally {
          other.closeAllConnections();
          await new Promise((r) => other.close(r));
        }
      });
    });

    describe('internal HTTP routes', () => {
      it('require the service token and validate bodies', async () => {
        t = await startTestGateway();
        expect((await t.call('POST', ROUTES.dispatch, req(), 'wrong')).body.code).toBe('UNAUTHORIZED');
        expect((await t.call('POST', ROUTES.dispatch, req(), 'wrong')).status).toBe(401);
        const bad = await t.call('POST', ROUTES.dispatch, '{oops');
        expect(bad).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
        const invalid = await t.call('POST', ROUTES.dispatch, { organizationId: ORG });
        expect(invalid.status).toBe(400);
        expect(invalid.body.message).toContain('requestId');
        expect(await t.call('GET', `${ROUTES.results}/nope:1`)).toMatchObject({ status: 404, body: { code: 'RESULT_NOT_READY' } });
        const none = await t.call('POST', ROUTES.dispatch, req());
        expect(none).toMatchObject({ status: 503, body: { code: 'NO_AGENT_AVAILABLE' } });
        expect(none.body.message).toContain('0 connected');
        const big = await t.call('POST', ROUTES.dispatch, req({ payload: 'x'.repeat(1024 * 1024 + 200 * 1024) }));
        expect(big).toMatchObject({ status: 413, body: { code: 'BAD_REQUEST' } });
        expect(await t.call('GET', ROUTES.dispatch)).toMatchObject({ status: 405, body: { code: 'BAD_REQUEST' } });
        expect(await t.call('GET', '/internal/v1/nope')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
      });
    });
  });
}
