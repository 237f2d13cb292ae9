/**
 * c — connection scale. Gateway RSS and heap per idle agent at 1k / 5k / 10k agents against the empty
 * gateway, then a gateway restart with 5k agents: how long until all are back, how many are stuck,
 * and whether the reconnects spread out (no storm). Agents are real `createAgent` runtimes with their
 * default backoff, split over two fleet processes.
 */
import { cpuMeter } from '../lib/cpu.js';
import { figure } from '../lib/report.js';
import { type BenchContext, addAgents, child, gatewayProcess, listen, stopAll } from './context.js';

interface Memory {
  rss: number;
  heapUsed: number;
  sessions: number;
}

interface ReconnectStats {
  connectedAt: number[];
  plannedAt: number[];
  loopDelayMs: { p50: number; p99: number; max: number };
  retries: number;
  connected: number;
  total: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function connectionScale(ctx: BenchContext): Promise<void> {
  const steps = ctx.quick ? [200, 500] : [1000, 5000, 10_000];
  const restartCount = ctx.quick ? 500 : 5000;
  const half = Math.max(...steps) / 2;
  const [gw, fleetA, fleetB] = await Promise.all([
    gatewayProcess(ctx, 'gateway-c1', ['--expose-gc']),
    child(ctx, 'agents-c-a', 'agents'),
    child(ctx, 'agents-c-b', 'agents'),
  ]);
  const info = await listen(ctx, gw, { store: 'memory' });
  // A short warm-up (connect and close 100 agents) so compiled code and one-time buffers of the
  // connection path count in the empty baseline, not against the first thousand agents.
  await addAgents(ctx, fleetB, info.wsUrl, half * 2, 100);
  await fleetB.call('closeAll', {}, 60_000);
  await sleep(500);
  const empty = await gw.call<Memory>('memory');
  const mem: Record<number, Memory & { connectMs: number }> = {};
  let inA = 0;
  let inB = 0;
  for (const count of steps) {
    const wantA = Math.min(count, half);
    const wantB = count - wantA;
    const t = performance.now();
    if (wantA > inA) await addAgents(ctx, fleetA, info.wsUrl, inA, wantA - inA);
    if (wantB > inB) await addAgents(ctx, fleetB, info.wsUrl, half + inB, wantB - inB);
    const connectMs = performance.now() - t;
    inA = wantA;
    inB = wantB;
    await sleep(500); // let upgrade buffers and handshakes settle before measuring
    mem[count] = { ...(await gw.call<Memory>('memory')), connectMs };
    ctx.log(`c: ${mem[count].sessions} agents, rss +${((mem[count].rss - empty.rss) / 1024 / 1024).toFixed(1)} MB`);
  }
  for (const count of steps) {
    const m = mem[count];
    if (!m) continue;
    const perAgentRss = (m.rss - empty.rss) / Math.max(1, m.sessions) / 1024;
    const perAgentHeap = (m.heapUsed - empty.heapUsed) / Math.max(1, m.sessions) / 1024;
    ctx.figures.push(
      figure({
        scenario: 'c',
        metric: `RSS per idle agent at ${count.toLocaleString('en')}`,
        unit: 'KB',
        value: perAgentRss,
        baseline: { label: 'empty gateway RSS', value: empty.rss / 1024 / 1024, unit: 'MB' },
        target: '≤ 16 KB',
        check: (v) => v <= 16,
      }),
      figure({
        scenario: 'c',
        metric: `heap per idle agent at ${count.toLocaleString('en')}`,
        unit: 'KB',
        value: perAgentHeap,
        baseline: { label: 'empty gateway heap', value: empty.heapUsed / 1024 / 1024, unit: 'MB' },
      }),
    );
  }

  // Restart with `restartCount` agents, half in each fleet process so both cores can serve them.
  const perFleet = Math.floor(restartCount / 2);
  await fleetA.call('trim', { keep: perFleet }, 60_000);
  await fleetB.call('trim', { keep: restartCount - perFleet }, 60_000);
  if (inA < perFleet || inB < restartCount - perFleet) throw new Error('restart fleet larger than the connected fleets');
  // The second gateway is loaded before the first closes, so the measured gap is the restart itself.
  const gw2 = await gatewayProcess(ctx, 'gateway-c2', ['--expose-gc']);
  await Promise.all([fleetA.call('markReconnect'), fleetB.call('markReconnect')]);
  const closeStarted = performance.now();
  const meter = cpuMeter({ fleetA: fleetA.pid, fleetB: fleetB.pid, gateway: gw2.pid });
  // Drain and close the first gateway (agents get `drain` + 1001), then the second takes the port.
  await gw2.call('recordUpgrades', { on: true });
  await gw.call('close', {}, 30_000);
  const info2 = await listen(ctx, gw2, { store: 'memory', port: info.port });
  void gw.stop(10_000);
  const listening = performance.now();
  const limitMs = ctx.quick ? 10_000 : 20_000;
  const both = async (): Promise<ReconnectStats> => {
    const [a, b] = await Promise.all([fleetA.call<ReconnectStats>('reconnectStats'), fleetB.call<ReconnectStats>('reconnectStats')]);
    return {
      connectedAt: [...a.connectedAt, ...b.connectedAt],
      plannedAt: [...a.plannedAt, ...b.plannedAt],
      loopDelayMs: {
        p50: Math.max(a.loopDelayMs.p50, b.loopDelayMs.p50),
        p99: Math.max(a.loopDelayMs.p99, b.loopDelayMs.p99),
        max: Math.max(a.loopDelayMs.max, b.loopDelayMs.max),
      },
      retries: a.retries + b.retries,
      connected: a.connected + b.connected,
      total: a.total + b.total,
    };
  };
  // Counted on the new gateway: a fleet's own "connected" count lags behind when its event loop does.
  let back = 0;
  while (back < restartCount && performance.now() - listening < limitMs) {
    await sleep(50);
    back = await gw2.call<number>('sessions');
  }
  await sleep(200); // let the fleets record the last `connected` events
  const stats = await both();
  const cpuCores = meter();
  const upgrades = await gw2.call<number[]>('upgrades');
  const sessions = await gw2.call<number>('sessions');
  const sorted = [...stats.connectedAt].sort((a, b) => a - b);
  const listeningAt = info2.listeningAt;
  const allBackMs = sorted.length >= restartCount ? (sorted[restartCount - 1] as number) - listeningAt : Number.NaN;
  // Storm check: the busiest 100 ms window of upgrade attempts, against an even spread over the reconnect span.
  const buckets = new Map<number, number>();
  for (const t of upgrades) buckets.set(Math.floor((t - listeningAt) / 100), (buckets.get(Math.floor((t - listeningAt) / 100)) ?? 0) + 1);
  const peak100ms = Math.max(0, ...buckets.values());
  // The agents' own plan: when their backoff timers were due, relative to the new gateway listening.
  const planned = new Map<number, number>();
  for (const t of stats.plannedAt)
    planned.set(Math.floor((t - listeningAt) / 100), (planned.get(Math.floor((t - listeningAt) / 100)) ?? 0) + 1);
  const stuck = restartCount - sessions;
  ctx.details.c = {
    empty,
    memory: mem,
    restart: {
      agents: restartCount,
      closeToListenMs: listening - closeStarted,
      allBackMs,
      stuck,
      gatewaySessions: sessions,
      upgradeAttempts: upgrades.length,
      agentRetries: stats.retries,
      cpuCoresDuringRestart: cpuCores,
      fleetEventLoopDelayMs: stats.loopDelayMs,
      lastPlannedReconnectMs: stats.plannedAt.length ? Math.max(...stats.plannedAt) - listeningAt : null,
      peakUpgradesPer100ms: peak100ms,
      upgradesPer100ms: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
      plannedReconnectsPer100ms: [...planned.entries()].sort((a, b) => a[0] - b[0]),
    },
  };
  ctx.figures.push(
    figure({
      scenario: 'c',
      metric: `${restartCount.toLocaleString('en')} agents back after restart`,
      unit: 's',
      value: allBackMs / 1000,
      baseline: { label: 'restart gap, close → listen', value: (listening - closeStarted) / 1000 },
      target: '≤ 3 s',
      check: (v) => v <= 3,
    }),
    figure({
      scenario: 'c',
      metric: 'last reconnect planned by agent backoff',
      unit: 's',
      value: stats.plannedAt.length ? (Math.max(...stats.plannedAt) - listeningAt) / 1000 : Number.NaN,
      baseline: { label: 'fleet event-loop delay p99', value: stats.loopDelayMs.p99, unit: 'ms' },
    }),
    figure({
      scenario: 'c',
      metric: 'agents stuck after restart',
      unit: '',
      value: stuck,
      target: '0',
      check: (v) => v === 0,
    }),
    figure({
      scenario: 'c',
      metric: 'upgrade attempts per agent (restart)',
      unit: '',
      value: upgrades.length / restartCount,
      baseline: { label: 'peak in one 100 ms window', value: peak100ms, unit: 'upgrades' },
      target: '< 2 (no storm)',
      check: (v) => v < 2,
    }),
  );
  await stopAll(ctx.children);
}
