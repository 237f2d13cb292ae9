/**
 * In-band agent token rotation on the composed stack (real api, gateway, worker and node-agent CLI
 * processes over real Postgres and Redis): `vespid-agent rotate` while tasks run, an org-wide rotation
 * (incident response) with one agent offline, the overlap ending (401 AGENT_TOKEN_EXPIRED + hint), and
 * an older agent without the `rotate_token` feature. Every token ever issued is a canary.
 */
import { statSync, readFileSync } from 'node:fs';
import { hashToken } from '@vespid/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../services.js';
import { killAll, spawnHost } from './lib/procs.js';
import { provisionAgent, rawAgent } from './lib/raw-agent.js';
import { leaks, record } from './lib/report.js';
import { type ChaosStack, runInvariants, startChaosStack } from './lib/stack.js';
import { type Target, httpNode, startTarget } from './lib/target.js';
import { waitFor } from '../support/wait-for.js';

const tokenOf = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { agentToken: string }).agentToken;

await describeWith(['postgres', 'redis'], 'chaos: in-band agent token rotation', () => {
  let stack: ChaosStack;
  let target: Target;
  const canaries: string[] = [];
  const responses: string[] = [];
  const runIds: string[] = [];

  /** Waits until the agent's config file holds a token other than `old`; returns it. */
  const rotatedToken = (configPath: string, old: string) =>
    waitFor(
      () => {
        const now = tokenOf(configPath);
        return now !== old ? now : undefined;
      },
      { what: 'config holds a new token', timeoutMs: 60_000, intervalMs: 50 },
    );

  beforeAll(async () => {
    target = await startTarget();
    stack = await startChaosStack({ name: 'rotate' });
    canaries.push(stack.serviceToken, stack.accessToken);
    await stack.start();
  }, 180_000);

  afterAll(async () => {
    if (stack) {
      const runs = await stack.runViews(runIds);
      const found = leaks(canaries, [stack.allLogs(), JSON.stringify(runs), ...responses, ...(await stack.storedResults(runIds))]);
      record('rotation.canaries', { canaries: canaries.length, leaked: found.length });
      await stack.close();
      await target?.close();
      await killAll();
      expect(found).toEqual([]);
    }
    await target?.close();
    await killAll();
  }, 120_000);

  it('`vespid-agent rotate` while tasks run: no task is lost, the config file holds the new token (0600), the old token is kept only as the previous one', async () => {
    const a = await stack.startAgent('rot-load', 'group:rot-load', {}, 50);
    const old = tokenOf(a.configPath);
    canaries.push(a.pairingToken, old);
    const wf = await stack.workflow('rotate-load', [
      httpNode('n1', target.url, 'load', { delayMs: 1500, selector: { group: 'rot-load' } }),
    ]);
    const ids = await Promise.all(Array.from({ length: 30 }, () => stack.startRun(wf)));
    runIds.push(...ids);
    // Tasks are inside the target (running on the agent) when the rotation happens.
    await waitFor(() => (target.pending() >= 10 ? true : undefined), { what: 'tasks in flight', timeoutMs: 60_000, intervalMs: 20 });
    const cli = spawnHost('rotate-cli', 'agent', {}, ['rotate', '--config-path', a.configPath, '--wait-ms', '60000'], []);
    const exit = await cli.exited;
    responses.push(cli.lines.join('\n'));
    expect(exit.code).toBe(0);
    expect(cli.lines.join('\n')).toMatch(/token rotated: the running agent saved its new token/);
    const fresh = tokenOf(a.configPath);
    canaries.push(fresh);
    expect(fresh).not.toBe(old);
    expect(statSync(a.configPath).mode & 0o777).toBe(0o600);
    await a.proc.waitForLine(/agent token rotated; the new token is saved/, 10_000);

    const runs = await stack.waitRuns(ids, 120_000);
    const inv = runInvariants(runs);
    const { rows } = await stack.pool.query<{ current: boolean; previous: boolean; pending: string | null; until: Date }>(
      `SELECT token_hash = $2 AS current, previous_token_hash = $3 AS previous, pending_token_hash AS pending, previous_valid_until AS until
         FROM organization_agents WHERE id = $1`,
      [a.agentId, hashToken(fresh), hashToken(old)],
    );
    record('rotation.under-load', { ...inv, targetHits: target.hits.get('/load') ?? 0 });
    expect(inv).toMatchObject({ runs: 30, succeeded: 30, stuck: 0, terminalDupes: 0, nodeSucceededTwice: 0 });
    expect(target.hits.get('/load')).toBe(30);
    expect(rows[0]).toMatchObject({ current: true, previous: true, pending: null });
    expect(rows[0]!.until.getTime()).toBeGreaterThan(Date.now());
    await a.proc.term(10_000);
  }, 240_000);

  it('org-wide rotation with an agent offline: it connects with its old token within the overlap and is rotated on connect; after the overlap the old token gets 401 AGENT_TOKEN_EXPIRED and the CLI says to pair again', async () => {
    const b = await stack.startAgent('rot-offline', 'group:rot-offline');
    const old = tokenOf(b.configPath);
    canaries.push(b.pairingToken, old);
    await b.proc.term(10_000);

    const res = await stack.call('POST', `/v1/orgs/${stack.orgId}/agents/rotate-tokens`);
    responses.push(res.text);
    expect(res.status).toBe(200);
    expect(res.body.propagated).toBe(true);
    const mine = (res.body.agents as Array<{ agentId: string; oldTokenValidUntil: string }>).find((x) => x.agentId === b.agentId);
    expect(Date.parse(mine!.oldTokenValidUntil)).toBeGreaterThan(Date.now());

    // Back within the overlap, with the old token in its file.
    const back = stack.restartAgent('rot-offline', b.configPath);
    await back.waitForLine(/"msg":"connected to gateway"/, 60_000);
    const fresh = await rotatedToken(b.configPath, old);
    canaries.push(fresh);
    expect(statSync(b.configPath).mode & 0o777).toBe(0o600);
    // It works on the new token: a task runs on it.
    const wf = await stack.workflow('rotate-offline', [httpNode('n1', target.url, 'offline', { selector: { group: 'rot-offline' } })]);
    const runId = await stack.startRun(wf);
    runIds.push(runId);
    const [run] = await stack.waitRuns([runId], 60_000);
    expect(run!.status).toBe('succeeded');

    // The overlap ends (its deadline moved to the past instead of waiting 24 h): the old token is refused.
    await stack.pool.query("UPDATE organization_agents SET previous_valid_until = now() - interval '1 second' WHERE id = $1", [b.agentId]);
    const refused = await rawAgent(stack.gatewayWsUrl, old, { sendHello: true }).then(
      () => ({ status: 0, body: '' }),
      (e: { status?: number; body?: string }) => ({ status: e.status ?? -1, body: e.body ?? '' }),
    );
    responses.push(refused.body);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'AGENT_TOKEN_EXPIRED', message: expect.stringMatching(/pair the agent again/) });

    // The node-agent CLI, started with the old token, stops with the hint.
    await back.term(10_000);
    const cfg = JSON.parse(readFileSync(b.configPath, 'utf8'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(b.configPath, JSON.stringify({ ...cfg, agentToken: old }), { mode: 0o600 });
    const stale = stack.restartAgent('rot-offline', b.configPath);
    const exit = await stale.exited;
    const text = stale.lines.join('\n');
    expect(exit.code).toBe(1);
    expect(text).toMatch(/AGENT_TOKEN_EXPIRED/);
    expect(text).toMatch(/hint: .*pair again.*vespid-agent connect --pairing-token <token>/);
  }, 240_000);

  it('an older agent (hello without the rotate_token feature) is never sent rotate_token and keeps its token', async () => {
    const legacy = await provisionAgent(stack.pool, stack.orgId, 'legacy');
    canaries.push(legacy.token);
    const raw = await rawAgent(stack.gatewayWsUrl, legacy.token, { sendHello: true });
    const from = stack.logs.gateway.length;
    const res = await stack.call('POST', `/v1/orgs/${stack.orgId}/agents/${legacy.agentId}/rotate-token`);
    responses.push(res.text);
    expect(res.status).toBe(200);
    // The gateway saw the request and skipped this session.
    await waitFor(
      () =>
        stack.logs.gateway
          .slice(from)
          .some(
            (l) => l.includes(legacy.agentId) && l.includes('token rotation requested by control plane') && l.includes('"unsupported":1'),
          )
          ? true
          : undefined,
      { what: 'gateway skipped the legacy agent', timeoutMs: 30_000 },
    );
    // Still connected and answered: a ping round trip after the request proves the frame was not queued before it.
    raw.send({ type: 'ping', ts: 1 });
    await raw.next('pong');
    expect(raw.frames.filter((f) => f.type === 'rotate_token')).toEqual([]);
    const { rows } = await stack.pool.query<{ pending: string | null; current: boolean }>(
      'SELECT pending_token_hash AS pending, token_hash = $2 AS current FROM organization_agents WHERE id = $1',
      [legacy.agentId, hashToken(legacy.token)],
    );
    expect(rows[0]).toEqual({ pending: null, current: true });
    await raw.close();
  }, 120_000);
});
