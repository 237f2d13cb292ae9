/**
 * f — the peer: the same no-op work as a BullMQ job (add → worker in another process → completion seen
 * by the caller through QueueEvents), against our dispatch measured here the same way (sequential
 * latency, then throughput at concurrency 64 with 10 agents / a worker with concurrency 64).
 */
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, type DriveResult, addAgents, bestWindow, child, gatewayProcess, listen, stopAll } from './context.js';

const CONCURRENCY = 64;

export async function bullmqPeer(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 150 : 1000;
  const durationMs = ctx.quick ? 1000 : 2000;
  const windows = ctx.quick ? 1 : 3;
  // Ours.
  const [gw, agents, load] = await Promise.all([
    gatewayProcess(ctx, 'gateway-f'),
    child(ctx, 'agents-f', 'agents'),
    child(ctx, 'loadgen-f', 'loadgen'),
  ]);
  const info = await listen(ctx, gw);
  await addAgents(ctx, agents, info.wsUrl, 0, 10);
  const d = { httpUrl: info.httpUrl, serviceToken: ctx.serviceToken, connections: CONCURRENCY };
  const warm = ctx.quick ? 100 : 300;
  await load.call('dispatch', { ...d, n: warm, concurrency: 1 });
  const oursSeq = await load.call<DriveResult>('dispatch', { ...d, n, concurrency: 1, durationMs: 30_000 });
  const oursTp = await bestWindow(load, 'dispatch', { ...d, concurrency: CONCURRENCY }, windows, durationMs);
  // The same through the dispatch channel (one WebSocket instead of an HTTP request per call).
  const c = { ...d, channel: 'ws' };
  await load.call('dispatch', { ...c, n: warm, concurrency: 1 });
  const chanSeq = await load.call<DriveResult>('dispatch', { ...c, n, concurrency: 1, durationMs: 30_000 });
  const chanTp = await bestWindow(load, 'dispatch', { ...c, concurrency: CONCURRENCY }, windows, durationMs);
  await stopAll(ctx.children);
  // BullMQ.
  const q = { redisUrl: ctx.redisUrl, prefix: `${ctx.prefix}:peer`, queue: 'noop' };
  const [worker, caller] = await Promise.all([child(ctx, 'bullmq-worker-f', 'bullmq-worker'), child(ctx, 'bullmq-caller-f', 'loadgen')]);
  await worker.call('start', { ...q, concurrency: CONCURRENCY });
  ctx.log('f: dispatch measured; BullMQ next');
  await caller.call('bullmq', { ...q, n: warm, concurrency: 1 });
  const bullSeq = await caller.call<DriveResult>('bullmq', { ...q, n, concurrency: 1, durationMs: 30_000 });
  const bullTp = await bestWindow(caller, 'bullmq', { ...q, concurrency: CONCURRENCY }, windows, durationMs);
  ctx.log('f: BullMQ measured');
  await stopAll(ctx.children);

  const os = summarize(oursSeq.samples);
  const bs = summarize(bullSeq.samples);
  const otp = (oursTp.count / oursTp.elapsedMs) * 1000;
  const cs = summarize(chanSeq.samples);
  const ctp = (chanTp.count / chanTp.elapsedMs) * 1000;
  const btp = (bullTp.count / bullTp.elapsedMs) * 1000;
  ctx.details.f = {
    pick: 'throughput: best of the windows',
    ours: {
      sequential: os,
      throughput: otp,
      windowsPerSec: oursTp.windowsPerSec,
      throughputLatency: summarize(oursTp.samples),
      errors: oursSeq.errors + oursTp.totalErrors,
    },
    channel: {
      sequential: cs,
      throughput: ctp,
      windowsPerSec: chanTp.windowsPerSec,
      throughputLatency: summarize(chanTp.samples),
      errors: chanSeq.errors + chanTp.totalErrors,
    },
    bullmq: {
      sequential: bs,
      throughput: btp,
      windowsPerSec: bullTp.windowsPerSec,
      throughputLatency: summarize(bullTp.samples),
      errors: bullSeq.errors + bullTp.totalErrors,
    },
  };
  ctx.figures.push(
    figure({
      scenario: 'f',
      metric: 'dispatch vs BullMQ job, p50',
      unit: 'ms',
      value: os.p50,
      baseline: { label: 'BullMQ p50', value: bs.p50 },
      target: '< BullMQ',
      check: (_v, r) => r !== undefined && r < 1,
    }),
    figure({
      scenario: 'f',
      metric: 'dispatch vs BullMQ job, p99',
      unit: 'ms',
      value: os.p99,
      baseline: { label: 'BullMQ p99', value: bs.p99 },
      target: '< BullMQ',
      check: (_v, r) => r !== undefined && r < 1,
    }),
    figure({
      scenario: 'f',
      metric: 'throughput vs BullMQ, c=64',
      unit: '/s',
      value: otp,
      baseline: { label: 'BullMQ', value: btp },
      target: '> BullMQ',
      check: (_v, r) => r !== undefined && r > 1,
    }),
    figure({
      scenario: 'f',
      metric: 'dispatch channel vs BullMQ job, p50',
      unit: 'ms',
      value: cs.p50,
      baseline: { label: 'BullMQ p50', value: bs.p50 },
    }),
    figure({
      scenario: 'f',
      metric: 'dispatch channel vs BullMQ job, p99',
      unit: 'ms',
      value: cs.p99,
      baseline: { label: 'BullMQ p99', value: bs.p99 },
    }),
    figure({
      scenario: 'f',
      metric: 'throughput vs BullMQ, c=64, dispatch channel',
      unit: '/s',
      value: ctp,
      baseline: { label: 'BullMQ', value: btp },
    }),
  );
  ctx.notes.push(
    `f: the dispatch channel against HTTP (same run): p50 ${(cs.p50 / os.p50).toFixed(3)}×, p99 ${(cs.p99 / os.p99).toFixed(3)}×, throughput at c=64 ${(ctp / otp).toFixed(3)}×`,
  );
  if (bullSeq.errors + bullTp.totalErrors > 0)
    ctx.notes.push(`f: ${bullSeq.errors + bullTp.totalErrors} BullMQ jobs failed (${bullTp.firstError ?? bullSeq.firstError})`);
}
