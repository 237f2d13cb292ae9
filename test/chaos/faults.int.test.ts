/**
 * Faults on the composed stack, each on real processes (api, gateway, worker, node-agent CLIs) over
 * real Postgres, Redis and Docker: kill -9 of the gateway with nodes in flight, of an agent inside a
 * sandbox container, of the worker under load, and SIGTERM of every host. After each: no run lost or
 * stuck, no node succeeded twice, failures carry a catalogue code, and no planted secret leaked.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../services.js';
import { startTcpProxy } from './lib/infra.js';
import { killAll, sleep } from './lib/procs.js';
import { leaks, record } from './lib/report.js';
import { FULL, SCALE } from './lib/scale.js';
import { type ChaosStack, runInvariants, startChaosStack } from './lib/stack.js';
import { httpNode, startTarget, type Target } from './lib/target.js';
import { waitFor } from '../support/wait-for.js';

await describeWith(['postgres', 'redis', 'docker'], 'chaos: process faults on the composed stack', () => {
  let stack: ChaosStack;
  let target: Target;
  let secretId: string;
  const canary = `canary-secret-${randomBytes(12).toString('hex')}`;
  const canaries: string[] = [canary];
  const allRunIds: string[] = [];

  const dispatchedIds = (runs: Array<{ events: Array<{ type: string; payload: Record<string, unknown> }> }>) =>
    new Set(runs.flatMap((r) => r.events.filter((e) => e.type === 'node_dispatched').map((e) => String(e.payload.requestId))));

  beforeAll(async () => {
    target = await startTarget();
    // Retries span ~15 s (0.5+1+2+4+8) so a node survives a host restart. Deadlines (45 s, 60 s full) must
    // outlast the gateway-kill test's outage: its nodes are held until most are in flight (slower on a busy
    // machine), then the gateway is down while they finish, then the agents reconnect with full jitter (after
    // a few seconds down the next attempt can be 8–16 s away). A 10 s deadline failed nodes whose task had
    // run and whose result was waiting in the agent's outbox (succeeded < target hits).
    stack = await startChaosStack({
      name: 'faults',
      env: { WORKFLOW_NODE_MAX_ATTEMPTS: '6', NODE_EXEC_TIMEOUT_MS: FULL ? '60000' : '45000' },
    });
    canaries.push(stack.serviceToken, stack.accessToken);
    await stack.start();
    const secret = await stack.ok('POST', `/v1/orgs/${stack.orgId}/secrets`, { name: 'target', connectorId: 'http', value: canary });
    secretId = secret.id;
    const per = Math.ceil(SCALE.gatewayKillInFlight / 2) + 10;
    for (const name of ['a1', 'a2']) {
      const a = await stack.startAgent(name, 'pool,group:http', {}, per);
      canaries.push(a.pairingToken, JSON.parse(readFileSync(a.configPath, 'utf8')).agentToken);
    }
  }, 180_000);

  afterAll(async () => {
    // The canary scan covers every line of every process of every test above, every event and stored result.
    if (stack) {
      const runs = await stack.runViews(allRunIds);
      const found = leaks(canaries, [stack.allLogs(), JSON.stringify(runs), ...(await stack.storedResults(allRunIds))]);
      record('faults.canaries', {
        canaries: canaries.length,
        logLines: stack.allLogs().split('\n').length,
        runs: runs.length,
        leaked: found.length,
      });
      await stack.close();
      await target?.close();
      await killAll();
      expect(found).toEqual([]);
    }
    await target?.close();
    await killAll();
  }, 120_000);

  it('kill -9 of the gateway with nodes in flight: every run ends, results produced in the outage are delivered', async () => {
    const n = SCALE.gatewayKillInFlight;
    // The target holds every call until released, so nodes stay in flight however slowly a loaded machine
    // dispatches them (a fixed hold let early calls finish before the last were sent).
    const wf = await stack.workflow('gw-kill', [
      httpNode('slow', target.url, 'gw-kill', { hold: true, selector: { group: 'http' }, secretId }),
    ]);
    const runIds = await Promise.all(Array.from({ length: n }, () => stack.startRun(wf)));
    allRunIds.push(...runIds);
    await waitFor(() => (target.pending() >= Math.floor(n * 0.8) ? true : undefined), {
      what: 'nodes in flight',
      timeoutMs: 90_000,
      intervalMs: 50,
    });
    const inFlight = target.pending();
    await stack.hosts.gateway!.kill9();
    // The agents finish their tasks while the gateway is down: these results must survive.
    target.release();
    await waitFor(() => target.pending() === 0, { what: 'the in-flight tasks to finish in the outage', timeoutMs: 30_000 });
    await stack.startGateway();
    const runs = await stack.waitRuns(runIds, 150_000);
    const inv = runInvariants(runs);
    const hits = target.hits.get('/gw-kill') ?? 0;
    record('fault.gateway-kill-9', { ...inv, inFlightAtKill: inFlight, targetHits: hits, dispatchedRequestIds: dispatchedIds(runs).size });
    expect(inv).toMatchObject({ runs: n, stuck: 0, terminalDupes: 0, nodeSucceededTwice: 0, unclearFailures: 0 });
    expect(hits).toBeLessThanOrEqual(dispatchedIds(runs).size);
    // Every task that ran (one call each) had its result delivered — none lost, none re-executed. Runs
    // whose dispatch fell into the outage retry per policy; if agents are still reconnecting (jittered
    // backoff) when the attempts run out they fail with NO_AGENT_AVAILABLE, and a frame lost with the
    // killed process times out (NODE_EXECUTION_TIMEOUT): clear codes, counted in the report.
    expect(inv.succeeded).toBe(hits);
    expect(
      Object.keys(inv.failureCodes).filter((c) => !['NO_AGENT_AVAILABLE', 'NODE_EXECUTION_TIMEOUT', 'AGENT_DISCONNECTED'].includes(c)),
    ).toEqual([]);
    expect(inv.succeeded).toBeGreaterThan(inFlight / 2);
    expect(target.authorizations.every((a) => a === `Bearer ${canary}`)).toBe(true);
  }, 300_000);

  it('kill -9 of the worker 4× under load (mid-dispatch and while blocked): runs resume exactly once', async () => {
    const n = SCALE.workerKillRuns;
    const wf = await stack.workflow('wk-kill', [
      httpNode('w1', target.url, 'wk1', { delayMs: 300 }),
      httpNode('w2', target.url, 'wk2', { delayMs: 800 }),
      httpNode('w3', target.url, 'wk3', { delayMs: 100 }),
    ]);
    const runIds = await Promise.all(Array.from({ length: n }, () => stack.startRun(wf)));
    allRunIds.push(...runIds);
    let kills = 0;
    // Kill at varied moments: the first right after the runs were queued (mid-dispatch), later ones while runs are blocked.
    for (const delay of [150, 700, 1300, 400]) {
      await sleep(delay);
      await stack.hosts.worker!.kill9();
      kills++;
      await stack.startWorker();
    }
    const runs = await stack.waitRuns(runIds, 150_000);
    const inv = runInvariants(runs);
    const hits = ['/wk1', '/wk2', '/wk3'].reduce((s, p) => s + (target.hits.get(p) ?? 0), 0);
    const dispatched = dispatchedIds(runs).size;
    record('fault.worker-kill-9', { ...inv, kills, targetHits: hits, dispatchedRequestIds: dispatched });
    expect(inv).toMatchObject({ runs: n, stuck: 0, terminalDupes: 0, nodeSucceededTwice: 0, unclearFailures: 0 });
    // Exactly once: no request id executed twice (a re-dispatch after a crash reuses the same id and is deduplicated).
    expect(hits).toBeLessThanOrEqual(dispatched);
    expect(inv.succeeded).toBe(n);
  }, 240_000);

  it('kill -9 of the worker after the gateway accepted the dispatch, before the worker recorded it: each node runs once', async () => {
    // The worker reaches the gateway through a proxy that delivers requests but holds the answers:
    // the gateway dispatches (the agent runs the node) while the worker never learns it was accepted.
    const proxy = await startTcpProxy(stack.gatewayUrl);
    const direct = stack.env.worker.GATEWAY_HTTP_URL;
    stack.env.worker.GATEWAY_HTTP_URL = proxy.url.replace(/\/$/, '');
    try {
      await stack.hosts.worker!.term(20_000);
      await stack.startWorker();
      const n = Math.max(4, Math.floor(SCALE.workerKillRuns / 2));
      const wf = await stack.workflow('accepted-kill', [
        httpNode('a1', target.url, 'acc1', { delayMs: 4000 }),
        httpNode('a2', target.url, 'acc2'),
      ]);
      proxy.hold();
      const runIds = await Promise.all(Array.from({ length: n }, () => stack.startRun(wf)));
      allRunIds.push(...runIds);
      // Every first node was accepted and is running on an agent (held 4 s, so no result is pushed yet);
      // no answer reached the worker.
      await waitFor(() => ((target.hits.get('/acc1') ?? 0) >= n ? true : undefined), {
        what: 'first nodes executed',
        timeoutMs: 60_000,
        intervalMs: 50,
      });
      // The worker's cursors are not marked dispatched: it never got the gateway's answer (an early
      // result may already have arrived by push and completed a cursor; it stays unmarked all the same).
      const { rows } = await stack.pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM blocked_cursors WHERE request_id LIKE ANY($1) AND dispatched_at IS NULL',
        [runIds.map((id) => `${id}:a1:%`)],
      );
      await stack.hosts.worker!.kill9();
      proxy.down();
      stack.env.worker.GATEWAY_HTTP_URL = direct;
      await stack.startWorker();
      const runs = await stack.waitRuns(runIds, 120_000);
      const inv = runInvariants(runs);
      const hits = { acc1: target.hits.get('/acc1') ?? 0, acc2: target.hits.get('/acc2') ?? 0 };
      record('fault.worker-kill-9-after-accept', { ...inv, undispatchedCursorsAtKill: Number(rows[0]!.n), targetHits: hits });
      expect(Number(rows[0]!.n)).toBe(n);
      expect(inv).toMatchObject({ runs: n, stuck: 0, terminalDupes: 0, nodeSucceededTwice: 0, unclearFailures: 0, succeeded: n });
      // Exactly once: the resumed worker re-sent the same request ids and the gateway did not run them again.
      expect(hits).toEqual({ acc1: n, acc2: n });
    } finally {
      stack.env.worker.GATEWAY_HTTP_URL = direct;
      await proxy.close();
    }
  }, 240_000);

  it('SIGTERM on every host: each drains within its timeout and exits 0; no result is lost', async () => {
    const n = SCALE.sigtermRuns;
    const wf = await stack.workflow('term', [
      httpNode('t1', target.url, 'term1', { delayMs: 1500, selector: { group: 'http' } }),
      httpNode('t2', target.url, 'term2'),
    ]);
    const runIds = await Promise.all(Array.from({ length: n }, () => stack.startRun(wf)));
    allRunIds.push(...runIds);
    await waitFor(() => ((target.hits.get('/term1') ?? 0) >= Math.ceil(n / 2) ? true : undefined), {
      what: 'term nodes in flight',
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const exits: Record<string, { code: number | null; ms: number }> = {};
    // An agent drains: it finishes its running tasks and delivers their results before exiting.
    const a1 = stack.agents.find((a) => a.name.endsWith('agent-a1'))!;
    const t = await a1.term(20_000);
    exits.agent = { code: t.code, ms: t.ms };
    for (const host of ['worker', 'gateway', 'api'] as const) {
      const r = await stack.hosts[host]!.term(20_000);
      exits[host] = { code: r.code, ms: r.ms };
      if (host === 'worker') await stack.startWorker();
      if (host === 'gateway') {
        await stack.startGateway();
        // As an operator would: the agent that stayed up reconnects (jittered backoff) before the next step.
        await stack.waitConnected(1);
      }
      if (host === 'api') await stack.startApi();
    }
    const runs = await stack.waitRuns(runIds, 120_000);
    const inv = runInvariants(runs);
    record('fault.sigterm-every-host', { ...inv, exits });
    for (const [host, e] of Object.entries(exits)) expect(e.code, host).toBe(0);
    expect(inv).toMatchObject({ runs: n, stuck: 0, terminalDupes: 0, nodeSucceededTwice: 0, unclearFailures: 0, succeeded: n });
  }, 240_000);

  it('kill -9 of an agent inside a sandbox container: the task ends AGENT_DISCONNECTED, the run retries, the container is swept', async () => {
    const docker = { VESPID_AGENT_EXEC_BACKEND: 'docker', VESPID_AGENT_DOCKER_IMAGE: 'vespid/sandbox-busybox:test' };
    const a = await stack.startAgent('sbx-a', 'group:sbx', { ...docker, VESPID_AGENT_WORKDIR_ROOT: join(stack.tmp, 'work-a') }, 5);
    const wf = await stack.workflow('sbx-kill', [
      {
        id: 'sh',
        type: 'agent.execute',
        config: { task: { type: 'shell', script: 'sleep 3; echo done' }, execution: { mode: 'node', selector: { group: 'sbx' } } },
      },
    ]);
    const runId = await stack.startRun(wf);
    allRunIds.push(runId);
    const label = `dev.vespid.sandbox.request-id=${runId}:sh:0`;
    const containers = () => execFileSync('docker', ['ps', '-aq', '--filter', `label=${label}`], { encoding: 'utf8' }).trim();
    await waitFor(() => (containers() ? true : undefined), { what: 'sandbox container', timeoutMs: 30_000, intervalMs: 100 });
    // Kill at once, while the 3 s task surely runs: starting the second agent first took seconds on a loaded
    // machine, the task finished before the kill and there was no disconnect to see. The second agent
    // starts after the kill; the run's retries (~15 s of backoff) wait for it.
    await a.proc.kill9();
    expect(containers()).not.toBe('');
    const b = await stack.startAgent('sbx-b', 'group:sbx', { ...docker, VESPID_AGENT_WORKDIR_ROOT: join(stack.tmp, 'work-b') }, 5);
    const [run] = await stack.waitRuns([runId], 90_000);
    const failed = run!.events.filter((e) => e.type === 'node_failed');
    expect(failed[0]?.payload).toMatchObject({ error: { code: 'AGENT_DISCONNECTED' } });
    expect(run!.status).toBe('succeeded');
    // The killed agent's container outlived it; the agent sweeps it on its next start.
    const restarted = stack.restartAgent('sbx-a', a.configPath, { ...docker, VESPID_AGENT_WORKDIR_ROOT: join(stack.tmp, 'work-a') });
    await waitFor(() => (containers() === '' ? true : undefined), { what: 'orphan swept', timeoutMs: 60_000, intervalMs: 250 });
    record('fault.agent-kill-9-sandbox', {
      runs: 1,
      status: run!.status,
      firstFailure: (failed[0]?.payload as { error?: unknown })?.error,
      containerSwept: true,
    });
    await restarted.term(10_000);
    await b.proc.term(10_000);
  }, 180_000);
});
