import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, createAgent } from '../agent.js';
import type { AgentOptions } from '../agent-options.js';
import type { Executor } from '../executor.js';
import { createFakeAgentGateway, type FakeAgentGateway } from '../testing/index.js';
import { encodeRecord, JOURNAL_FILE } from './journal.js';
import { OUTBOX_MAX_AGE_MS, ResultOutbox } from './outbox.js';
import { recordingLogger } from '../../test/outbox/test-logger.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const ORG = 'org-outbox';
const TOKEN = `${ORG}.tok_${'b'.repeat(24)}`;

/** Counts executions per request id (a task run twice shows up as 2). */
function countingExecutor() {
  const runs = new Map<string, number>();
  const executor: Executor = {
    kind: 'count',
    async execute(task) {
      runs.set(task.requestId, (runs.get(task.requestId) ?? 0) + 1);
      return { status: 'succeeded', output: { ran: task.requestId } };
    },
  };
  return { executor, runs };
}

describe('durable result outbox', () => {
  let gw: FakeAgentGateway;
  const agents: Agent[] = [];
  const dirs: string[] = [];
  const stateDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vespid-outbox-'));
    dirs.push(d);
    return join(d, 'state');
  };
  const start = async (dir: string, extra: Partial<AgentOptions> & { executors: Executor[] }) => {
    const agent = createAgent({
      gatewayWsUrl: gw.url,
      agentToken: TOKEN,
      name: 'outbox-test',
      stateDir: dir,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
      ...extra,
    });
    agents.push(agent);
    await agent.start();
    return agent;
  };
  const journalText = (dir: string) => readFileSync(join(dir, JOURNAL_FILE), 'utf8');

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close({ timeoutMs: 300 })));
    await gw?.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('an unacknowledged result survives the agent: the next agent on the same state dir resends it and never reruns the task', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, organizationId: ORG, ackResults: false });
    const dir = stateDir();
    const first = countingExecutor();
    const a1 = await start(dir, { executors: [first.executor] });
    await gw.nextSession();
    const r = await gw.execute({ requestId: 'run1:n1:0', kind: 'count' });
    expect(r).toMatchObject({ status: 'succeeded', output: { ran: 'run1:n1:0' } });
    expect(statSync(join(dir, JOURNAL_FILE)).mode & 0o777).toBe(0o600);
    await a1.close({ timeoutMs: 300 });

    const second = countingExecutor();
    const resent = gw.waitForResult('run1:n1:0');
    const a2 = await start(dir, { executors: [second.executor] });
    expect(await resent).toEqual(r);
    // The gateway re-sends the execute (e.g. a cluster redelivery): answered from the outbox, not rerun.
    expect(await gw.execute({ requestId: 'run1:n1:0', kind: 'count' })).toEqual(r);
    expect(second.runs.size).toBe(0);
    expect(first.runs.get('run1:n1:0')).toBe(1);
    // Once acked the entry is gone and the journal is compacted to nothing.
    gw.setAckResults(true);
    const next = gw.nextSession();
    gw.dropSessions(1001, 'restart');
    await next;
    await waitFor(() => a2.pendingResults === 0, 'ack');
    await waitFor(() => statSync(join(dir, JOURNAL_FILE)).size === 0, 'compaction');
  });

  it('reports a task that was running when the agent died as a retryable AGENT_RESTARTED on reconnect', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, organizationId: ORG });
    const dir = stateDir();
    // What a killed agent leaves: the started marker of a task, no result (plus one finished, unacked).
    const first = countingExecutor();
    const a1 = await start(dir, { executors: [first.executor] });
    await a1.close({ timeoutMs: 300 });
    appendFileSync(join(dir, JOURNAL_FILE), encodeRecord({ t: 'started', id: 'run2:n1:0', at: Date.now() }));
    const log = recordingLogger();
    const restarted = gw.waitForResult('run2:n1:0');
    const a2 = await start(dir, { executors: [countingExecutor().executor], logger: log });
    expect(await restarted).toMatchObject({
      type: 'execute_result',
      requestId: 'run2:n1:0',
      status: 'failed',
      error: { code: 'AGENT_RESTARTED', retryable: true },
    });
    await waitFor(() => a2.pendingResults === 0, 'ack');
    expect(log.lines.find((l) => l.msg === 'outbox journal recovered; unacknowledged results will be resent')).toMatchObject({
      pending: 1,
      restarted: 1,
    });
  });

  it('skips a corrupt or truncated journal tail with a warning and still resends the valid results', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, organizationId: ORG });
    const dir = stateDir();
    const a1 = await start(dir, { executors: [countingExecutor().executor] });
    await a1.close({ timeoutMs: 300 });
    const ok = { type: 'execute_result' as const, requestId: 'run3:n1:0', status: 'succeeded' as const, output: { v: 1 } };
    writeFileSync(
      join(dir, JOURNAL_FILE),
      `${encodeRecord({ t: 'result', at: Date.now(), r: ok })}deadbeef {"t":"result"\n\u0000\u0000garbage${encodeRecord({ t: 'started', id: 'x', at: 1 }).slice(0, 20)}`,
    );
    const log = recordingLogger();
    const resent = gw.waitForResult('run3:n1:0');
    const a2 = await start(dir, { executors: [countingExecutor().executor], logger: log });
    expect(await resent).toEqual(ok);
    expect(log.lines.find((l) => l.msg === 'outbox journal: skipped corrupt or truncated records')).toMatchObject({
      level: 'warn',
      skipped: 2,
      truncatedTail: true,
    });
    await waitFor(() => a2.pendingResults === 0, 'ack');
    // The rewritten journal no longer carries the garbage.
    expect(journalText(dir)).not.toContain('garbage');
  });

  it('never writes a task input or its secret to the journal (canaries)', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, organizationId: ORG, ackResults: false });
    const dir = stateDir();
    const secret = `canary-secret-${Math.random().toString(36).slice(2)}`;
    const input = `canary-input-${Math.random().toString(36).slice(2)}`;
    // Uses both and even tries to return the secret (the runner scrubs it from results).
    const nosy: Executor = {
      kind: 'nosy',
      async execute(task, ctx) {
        const payload = task.payload as { value: string };
        return { status: 'succeeded', output: { length: payload.value.length, echoedSecret: ctx.secret } };
      },
    };
    const hold: Executor = {
      kind: 'hold',
      execute: (_t, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    };
    await start(dir, { executors: [nosy, hold] });
    await gw.nextSession();
    const r = await gw.execute({ requestId: 'run4:n1:0', kind: 'nosy', payload: { value: input }, secret });
    expect(r.status).toBe('succeeded');
    // A task still running has its started marker in the journal: the request id only.
    gw.sessions.at(-1)!.send({
      type: 'execute',
      requestId: 'run4:n2:0',
      organizationId: ORG,
      kind: 'hold',
      payload: { value: input },
      secret,
      timeoutMs: 60_000,
    });
    await waitFor(() => journalText(dir).includes('run4:n2:0'), 'started marker');
    const bytes = readFileSync(join(dir, JOURNAL_FILE));
    expect(bytes.includes(Buffer.from('run4:n1:0'))).toBe(true);
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    expect(bytes.includes(Buffer.from(input))).toBe(false);
  });

  it('at its bound refuses new work with AGENT_OUTBOX_FULL (produced results are kept) until acks free space', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, organizationId: ORG, ackResults: false });
    const counting = countingExecutor();
    const agent = await start(stateDir(), { executors: [counting.executor], outboxMaxEntries: 2 });
    await gw.nextSession();
    await gw.execute({ requestId: 'b:1:0', kind: 'count' });
    await gw.execute({ requestId: 'b:2:0', kind: 'count' });
    const refused = await gw.execute({ requestId: 'b:3:0', kind: 'count' });
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'AGENT_OUTBOX_FULL' } });
    expect(counting.runs.has('b:3:0')).toBe(false);
    expect(agent.pendingResults).toBe(3);
    gw.setAckResults(true);
    const next = gw.nextSession();
    gw.dropSessions(1001, 'restart');
    await next;
    await waitFor(() => agent.pendingResults === 0, 'acks');
    expect(await gw.execute({ requestId: 'b:4:0', kind: 'count' })).toMatchObject({ status: 'succeeded' });
  });

  it('drops results no gateway acknowledged within the maximum age (at start-up and on reconnect), with a warning', async () => {
    const dir = stateDir();
    let now = 1_000_000;
    const log = recordingLogger();
    const outbox = new ResultOutbox({ stateDir: dir, maxEntries: 10, maxBytes: 1 << 20, logger: log, now: () => now });
    await outbox.open();
    const sent: string[] = [];
    outbox.add({ type: 'execute_result', requestId: 'old:1:0', status: 'succeeded', output: 1 }, (m) => sent.push(m.requestId));
    await waitFor(() => sent.length === 1, 'durable send');
    now += OUTBOX_MAX_AGE_MS - 1;
    expect(outbox.prune()).toBe(0);
    now += 2;
    expect(outbox.prune()).toBe(1);
    expect(outbox.size).toBe(0);
    expect(log.lines.find((l) => l.msg === 'outbox: dropped results no gateway acknowledged in time')).toMatchObject({ dropped: 1 });
    expect(statSync(join(dir, JOURNAL_FILE)).size).toBe(0);
    outbox.close();
    // Same rule when an old journal is recovered.
    const stale = { type: 'execute_result' as const, requestId: 'old:2:0', status: 'succeeded' as const };
    writeFileSync(join(dir, JOURNAL_FILE), encodeRecord({ t: 'result', at: now - OUTBOX_MAX_AGE_MS - 1, r: stale }));
    const again = new ResultOutbox({ stateDir: dir, maxEntries: 10, maxBytes: 1 << 20, logger: log, now: () => now });
    await again.open();
    expect(again.size).toBe(0);
    again.close();
  });

  it('an unusable state dir does not keep the agent down: it logs an error and keeps results in memory', async () => {
    gw = await createFakeAgentGateway({ token: TOKEN, organizationId: ORG });
    const file = join(stateDir(), '..', 'not-a-dir');
    writeFileSync(file, 'x');
    const log = recordingLogger();
    await start(file, { executors: [countingExecutor().executor], logger: log });
    await gw.nextSession();
    expect(await gw.execute({ requestId: 'ro:1:0', kind: 'count' })).toMatchObject({ status: 'succeeded' });
    expect(log.lines.find((l) => l.msg === 'cannot open the outbox journal; unacknowledged results are kept in memory only')).toMatchObject(
      {
        level: 'error',
        code: 'EEXIST',
      },
    );
  });
});
