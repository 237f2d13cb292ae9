/**
 * The agent's durable result outbox on the composed stack (real api, gateway, worker and node-agent
 * processes over real Postgres and Redis): kill -9 of an agent after its task finished but before the
 * gateway acknowledged the result, and kill -9 while a task runs. Crash points are states the test
 * waits for (a proxy withholds the result; the target holds the request), never timing guesses.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../services.js';
import { killAll } from './lib/procs.js';
import { leaks, record } from './lib/report.js';
import { type ChaosStack, runInvariants, startChaosStack } from './lib/stack.js';
import { startWsProxy, type WsProxy } from './lib/ws-proxy.js';
import { waitFor } from '../support/wait-for.js';

/** An HTTP target that numbers its hits per path (`{hit: n}`) and can hold the first hit of a path forever. */
async function countingTarget() {
  const hits = new Map<string, number>();
  const held: ServerResponse[] = [];
  const holdFirst = new Set<string>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    req.resume();
    if (hit === 1 && holdFirst.has(path)) {
      held.push(res);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ hit }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    holdFirst,
    held,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const JOURNAL = 'outbox.journal';

await describeWith(['postgres', 'redis'], 'chaos: agent result outbox across kill -9', () => {
  let stack: ChaosStack;
  let target: Awaited<ReturnType<typeof countingTarget>>;
  let proxy: WsProxy;
  let secretId: string;
  const secretCanary = `canary-secret-${randomBytes(12).toString('hex')}`;
  const inputCanary = `canary-input-${randomBytes(12).toString('hex')}`;
  const canaries = [secretCanary, inputCanary];
  const journals: string[] = [];
  const runIds: string[] = [];
  // The deadline is far away: an answer within the test's wait can only come from the outbox.
  const deadlineMs = 90_000;

  /** A node POSTing the input canary to the target, with the secret canary as its bearer token. */
  const postNode = (id: string, path: string, group: string) => ({
    id,
    type: 'connector.action',
    config: {
      connectorId: 'http',
      actionId: 'request',
      input: { method: 'POST', url: `${target.url}/${path}`, body: { note: inputCanary } },
      execution: { mode: 'node', selector: { group } },
      auth: { secretId },
    },
  });

  beforeAll(async () => {
    target = await countingTarget();
    stack = await startChaosStack({ name: 'outbox', env: { WORKFLOW_NODE_MAX_ATTEMPTS: '3', NODE_EXEC_TIMEOUT_MS: String(deadlineMs) } });
    canaries.push(stack.serviceToken, stack.accessToken);
    await stack.start();
    proxy = await startWsProxy(stack.gatewayWsUrl);
    secretId = (await stack.ok('POST', `/v1/orgs/${stack.orgId}/secrets`, { name: 'outbox', connectorId: 'http', value: secretCanary })).id;
  }, 180_000);

  afterAll(async () => {
    if (stack) {
      const runs = await stack.runViews(runIds);
      const found = leaks(canaries, [stack.allLogs(), JSON.stringify(runs), ...(await stack.storedResults(runIds)), ...journals]);
      record('outbox.canaries', { canaries: canaries.length, journalsScanned: journals.length, leaked: found.length });
      await stack.close();
      await proxy?.close();
      await target?.close();
      await killAll();
      expect(found).toEqual([]);
    }
    await target?.close();
    await killAll();
  }, 120_000);

  it('kill -9 after the task finished, before the ack: the restarted agent resends the journaled result (a torn tail is skipped); the run succeeds with the original output and the task ran once', async () => {
    // Paired directly, then restarted from its config pointing at the proxy (its state dir is the config's).
    const paired = await stack.startAgent('ob-once', 'group:ob-once', {}, 5);
    canaries.push(paired.pairingToken, JSON.parse(readFileSync(paired.configPath, 'utf8')).agentToken);
    await paired.proc.term(10_000);
    const config = JSON.parse(readFileSync(paired.configPath, 'utf8'));
    writeFileSync(paired.configPath, JSON.stringify({ ...config, gatewayWsUrl: proxy.url }));
    const journalPath = join(dirname(paired.configPath), JOURNAL);
    const first = stack.restartAgent('ob-once', paired.configPath);
    await first.waitForLine(/"msg":"connected to gateway"/, 60_000);

    const wf = await stack.workflow('outbox-once', [postNode('n1', 'once', 'ob-once')]);
    const runId = await stack.startRun(wf);
    runIds.push(runId);
    proxy.withholdResults((requestId) => requestId.startsWith(runId));
    // The agent sends a result only once its journal record is on disk: from here the crash point holds.
    const w = await waitFor(() => proxy.withheld.find((x) => x.requestId.startsWith(runId)), {
      what: 'result withheld',
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    const atKill = readFileSync(journalPath);
    journals.push(atKill.toString('utf8'));
    expect(atKill.includes(Buffer.from(w.requestId))).toBe(true);
    await first.kill9();
    // A write torn by the crash at the end of the journal.
    appendFileSync(journalPath, '0badc0de {"t":"result","at":1,"r":{"type":"execute_res');
    proxy.withholdResults(undefined);

    const killedAt = Date.now();
    const second = stack.restartAgent('ob-once', paired.configPath);
    await second.waitForLine(/outbox journal: skipped corrupt or truncated records/, 60_000);
    const [run] = await stack.waitRuns([runId], deadlineMs / 2);
    const recoveredMs = Date.now() - killedAt;
    journals.push(readFileSync(journalPath, 'utf8'));
    const succeeded = run!.events.filter((e) => e.type === 'node_succeeded');
    record('fault.agent-kill-9-before-ack', {
      status: run!.status,
      targetHits: target.hits.get('/once') ?? 0,
      recoveredMs,
      deadlineMs,
      ...runInvariants([run!]),
    });
    expect(run!.status).toBe('succeeded');
    expect(run!.events.filter((e) => e.type === 'node_failed')).toEqual([]);
    expect(run!.events.filter((e) => e.type === 'node_dispatched')).toHaveLength(1);
    // The original output (the target's first and only hit), delivered from the journal.
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0]!.payload.output).toMatchObject({ status: 200, json: { hit: 1 } });
    expect(target.hits.get('/once')).toBe(1);
    await waitFor(() => (readFileSync(journalPath).length === 0 ? true : undefined), {
      what: 'journal compacted after the ack',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    await second.term(10_000);
  }, 240_000);

  it('kill -9 during execution: the task is reported AGENT_RESTARTED on reconnect (not at its deadline), then the retry succeeds', async () => {
    const a = await stack.startAgent('ob-kill', 'group:ob-kill', {}, 5);
    canaries.push(a.pairingToken, JSON.parse(readFileSync(a.configPath, 'utf8')).agentToken);
    const journalPath = join(dirname(a.configPath), JOURNAL);
    target.holdFirst.add('/held');
    const wf = await stack.workflow('outbox-kill', [postNode('n1', 'held', 'ob-kill')]);
    const runId = await stack.startRun(wf);
    runIds.push(runId);
    // The agent's HTTP call is inside the target: the executor is running.
    await waitFor(() => (target.held.length === 1 ? true : undefined), { what: 'task executing', timeoutMs: 60_000, intervalMs: 50 });
    const atKill = readFileSync(journalPath, 'utf8');
    journals.push(atKill);
    expect(atKill).toContain(`"t":"started","id":"${runId}:n1:0"`);
    await a.proc.kill9();
    const killedAt = Date.now();
    const restarted = stack.restartAgent('ob-kill', a.configPath);
    const [run] = await stack.waitRuns([runId], deadlineMs / 2);
    const doneMs = Date.now() - killedAt;
    journals.push(readFileSync(journalPath, 'utf8'));
    const failed = run!.events.filter((e) => e.type === 'node_failed');
    record('fault.agent-kill-9-during-execution', {
      status: run!.status,
      firstFailure: (failed[0]?.payload as { error?: { code?: string } })?.error?.code,
      targetHits: target.hits.get('/held') ?? 0,
      killToRunEndMs: doneMs,
      deadlineMs,
    });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload).toMatchObject({ attempt: 0, error: { code: 'AGENT_RESTARTED' }, willRetry: true });
    expect(run!.status).toBe('succeeded');
    expect(run!.events.find((e) => e.type === 'node_succeeded')?.payload.output).toMatchObject({ json: { hit: 2 } });
    expect(target.hits.get('/held')).toBe(2);
    await restarted.term(10_000);
  }, 240_000);
});
