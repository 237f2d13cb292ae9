/**
 * Load on the real gateway process: SCALE.loadAgents agents in SCALE.loadAgentProcs swarm processes,
 * SCALE.loadOrgs organizations, SCALE.loadNodes dispatches with tag and group selectors (and none).
 * Invariants: zero lost (every dispatch answered `succeeded`), zero duplicated terminal events (one
 * result publication and one execution per request id), zero cross-org dispatches, zero selector
 * mismatches. Reports p50/p99 end-to-end latency (not asserted: benchmarks own speed).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULT_CHANNEL } from '@vespid/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL, describeWith } from '../services.js';
import { Redis, bootstrapOrganization } from './lib/deps.js';
import { type HostProcess, killAll, spawnHost } from './lib/procs.js';
import { provisionAgent } from './lib/raw-agent.js';
import { leaks, record } from './lib/report.js';
import { SCALE, SEED, prng } from './lib/scale.js';
import { type ChaosStack, startChaosStack } from './lib/stack.js';
import { waitFor } from '../support/wait-for.js';

await describeWith(['postgres', 'redis'], 'chaos: load across orgs with tag and group selectors', () => {
  let stack: ChaosStack;
  const swarms: HostProcess[] = [];
  const orgs: Array<{ orgId: string; zones: string[]; groups: string[] }> = [];
  const canaries: string[] = [];
  const rng = prng(SEED);

  beforeAll(async () => {
    // info, not debug: two debug lines per dispatch would dominate the gateway's CPU at this volume.
    stack = await startChaosStack({ name: 'load', env: { GATEWAY_LOG_LEVEL: 'info' } });
    canaries.push(stack.serviceToken);
    await stack.startGateway();
    const perOrg = Math.ceil(SCALE.loadAgents / SCALE.loadOrgs);
    const all: Array<{ token: string; agentId: string; organizationId: string; tags: string[] }> = [];
    for (let o = 0; o < SCALE.loadOrgs; o++) {
      const { orgId } = await bootstrapOrganization(stack.pool, { orgName: `Load ${o}`, email: `${stack.schema}-${o}@load.test` });
      orgs.push({ orgId, zones: ['zone-0', 'zone-1', 'zone-2'], groups: ['g0', 'g1'] });
      for (let k = 0; k < perOrg && all.length < SCALE.loadAgents; k++) {
        const tags = [`zone-${k % 3}`, `group:g${k % 2}`];
        const a = await provisionAgent(stack.pool, orgId, `load-${o}-${k}`, tags);
        all.push({ ...a, tags });
      }
    }
    canaries.push(...all.map((a) => a.token));
    const per = Math.ceil(all.length / SCALE.loadAgentProcs);
    for (let p = 0; p < SCALE.loadAgentProcs; p++) {
      const file = join(stack.tmp, `swarm-${p}.json`);
      writeFileSync(file, JSON.stringify({ wsUrl: stack.gatewayWsUrl, agents: all.slice(p * per, (p + 1) * per) }), { mode: 0o600 });
      swarms.push(spawnHost(`load-swarm-${p}`, 'swarm', { CHAOS_SWARM_FILE: file }, [], stack.logs.agents));
    }
    await stack.waitConnected(all.length, 180_000);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(swarms.map((s) => s.term(15_000)));
    if (stack) await stack.close();
    await killAll();
  }, 120_000);

  it(`${SCALE.loadNodes} dispatches over ${SCALE.loadAgents} agents in ${SCALE.loadOrgs} orgs: none lost, duplicated or cross-org`, async () => {
    const runTag = randomBytes(4).toString('hex');
    const published = new Map<string, number>();
    const sub = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    await sub.subscribe(RESULT_CHANNEL);
    sub.on('message', (_ch: string, text: string) => {
      const id = (JSON.parse(text) as { requestId?: string }).requestId ?? '';
      if (id.startsWith(`ld-${runTag}-`)) published.set(id, (published.get(id) ?? 0) + 1);
    });
    const latencies: number[] = [];
    const outcomes: Record<string, number> = {};
    const wrongAgentOrg: string[] = [];
    const selectors: Record<string, number> = { none: 0, tag: 0, group: 0 };
    let next = 0;
    const one = async (i: number) => {
      const org = orgs[Math.floor(rng() * orgs.length)]!;
      const r = rng();
      const selector =
        r < 0.4 ? { tag: org.zones[Math.floor(rng() * 3)]! } : r < 0.8 ? { group: org.groups[Math.floor(rng() * 2)]! } : undefined;
      selectors[selector ? Object.keys(selector)[0]! : 'none']!++;
      const requestId = `ld-${runTag}-${i}:n:0`;
      const body = {
        organizationId: org.orgId,
        requestId,
        kind: 'connector.action',
        payload: { connectorId: 'echo', actionId: 'echo', input: { expect: { organizationId: org.orgId, ...selector } } },
        ...(selector ? { selector } : {}),
        timeoutMs: 60_000,
      };
      const started = performance.now();
      const res = await fetch(`${stack.gatewayUrl}/internal/v1/dispatch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.serviceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { status?: string; code?: string; output?: { organizationId?: string } };
      latencies.push(performance.now() - started);
      const key = `${res.status}:${json.status ?? json.code}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if (json.output?.organizationId && json.output.organizationId !== org.orgId) wrongAgentOrg.push(requestId);
    };
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < SCALE.loadNodes) await one(next++);
      }),
    );
    const elapsedMs = Date.now() - started;
    // Publications trail the HTTP answers by a Redis round trip.
    await waitFor(() => (published.size >= SCALE.loadNodes ? true : undefined), {
      what: 'all publications',
      timeoutMs: 30_000,
      intervalMs: 100,
    }).catch(() => undefined);
    await sub.quit();

    const reports = await Promise.all(
      swarms.map(
        (s) =>
          new Promise<{ executions: Array<[string, number]>; crossOrg: number; selectorMismatch: number }>((resolve) => {
            const onMsg = (m: { type?: string }) => {
              if (m.type !== 'report') return;
              s.child.off('message', onMsg);
              resolve(m as never);
            };
            s.child.on('message', onMsg);
            s.child.send({ type: 'report' });
          }),
      ),
    );
    const executed = new Map<string, number>();
    for (const r of reports)
      for (const [id, n] of r.executions) if (id.startsWith(`ld-${runTag}-`)) executed.set(id, (executed.get(id) ?? 0) + n);
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (p: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(2));
    const figures = {
      dispatches: SCALE.loadNodes,
      agents: SCALE.loadAgents,
      agentProcesses: SCALE.loadAgentProcs,
      orgs: SCALE.loadOrgs,
      selectors,
      outcomes,
      lost: SCALE.loadNodes - (outcomes['200:succeeded'] ?? 0),
      executedOnce: [...executed.values()].filter((n) => n === 1).length,
      executedTwice: [...executed.values()].filter((n) => n > 1).length,
      publishedOnce: [...published.values()].filter((n) => n === 1).length,
      duplicatedTerminalEvents: [...published.values()].filter((n) => n > 1).length,
      crossOrgDispatches: reports.reduce((s, r) => s + r.crossOrg, 0) + wrongAgentOrg.length,
      selectorMismatches: reports.reduce((s, r) => s + r.selectorMismatch, 0),
      latencyMs: { p50: pct(50), p99: pct(99), max: pct(100) },
      throughputPerSec: Math.round((SCALE.loadNodes / elapsedMs) * 1000),
      leaked: leaks(canaries, [stack.allLogs()]).length,
    };
    record('load', figures);
    expect(figures).toMatchObject({
      lost: 0,
      executedOnce: SCALE.loadNodes,
      executedTwice: 0,
      publishedOnce: SCALE.loadNodes,
      duplicatedTerminalEvents: 0,
      crossOrgDispatches: 0,
      selectorMismatches: 0,
      leaked: 0,
    });
    expect(stack.hosts.gateway!.alive()).toBe(true);
  }, 600_000);
});
