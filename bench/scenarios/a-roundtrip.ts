/**
 * a — dispatch round trip with a no-op executor (HTTP dispatch → gateway → ws → agent → ws → Redis
 * store → HTTP back), one request at a time, against raw `ws` echo between two Node processes.
 * Echo and dispatch run in alternating blocks so VM drift hits both alike.
 */
import { figure } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { type BenchContext, type DriveResult, addAgents, child, gatewayProcess, listen, stopAll } from './context.js';

export async function roundTrip(ctx: BenchContext): Promise<void> {
  const echoServer = await child(ctx, 'echo-server', 'echo-server');
  const gw = await gatewayProcess(ctx, 'gateway-a');
  const info = await listen(ctx, gw);
  const agents = await child(ctx, 'agents-a', 'agents');
  await addAgents(ctx, agents, info.wsUrl, 0, 1);
  const load = await child(ctx, 'loadgen-a', 'loadgen');
  const url = echoServer.info.url as string;
  const dispatchArgs = { httpUrl: info.httpUrl, serviceToken: ctx.serviceToken, concurrency: 1 };
  const blocks = ctx.quick ? 2 : 6;
  const n = ctx.quick ? 150 : 500;
  // Warm-up: JIT, keep-alive pools, Redis script cache.
  await load.call('echo', { url, n: 200 });
  await load.call('dispatch', { ...dispatchArgs, n: 300 });
  const echo: number[] = [];
  const dispatch: number[] = [];
  let errors = 0;
  for (let b = 0; b < blocks; b++) {
    const e = await load.call<DriveResult>('echo', { url, n, durationMs: 20_000 });
    const d = await load.call<DriveResult>('dispatch', { ...dispatchArgs, n, durationMs: 20_000 });
    echo.push(...e.samples);
    dispatch.push(...d.samples);
    errors += d.errors;
  }
  // Same path with the in-memory result store: how much of the round trip is the two Redis hops.
  const gwMem = await gatewayProcess(ctx, 'gateway-a-memory');
  const infoMem = await listen(ctx, gwMem, { store: 'memory' });
  await addAgents(ctx, agents, infoMem.wsUrl, 1, 1);
  const memLoad = await child(ctx, 'loadgen-a-memory', 'loadgen');
  const memArgs = { httpUrl: infoMem.httpUrl, serviceToken: ctx.serviceToken, concurrency: 1 };
  await memLoad.call('dispatch', { ...memArgs, n: 300 });
  const mem = await memLoad.call<DriveResult>('dispatch', { ...memArgs, n: n * blocks, durationMs: 30_000 });
  await stopAll(ctx.children);
  const ms = summarize(mem.samples);
  const es = summarize(echo);
  const ds = summarize(dispatch);
  ctx.details.a = { echo: es, dispatch: ds, dispatchMemoryStore: ms, dispatchErrors: errors + mem.errors };
  ctx.figures.push(
    figure({
      scenario: 'a',
      metric: 'round trip p50',
      unit: 'ms',
      value: ds.p50,
      baseline: { label: 'ws echo p50', value: es.p50 },
      target: '≤ 4× echo p50',
      check: (_v, r) => r !== undefined && r <= 4,
    }),
    figure({
      scenario: 'a',
      metric: 'round trip p99',
      unit: 'ms',
      value: ds.p99,
      baseline: { label: 'ws echo p99', value: es.p99 },
      target: '≤ 4× echo p99',
      check: (_v, r) => r !== undefined && r <= 4,
    }),
    figure({
      scenario: 'a',
      metric: 'round trip p50, memory result store',
      unit: 'ms',
      value: ms.p50,
      baseline: { label: 'ws echo p50', value: es.p50 },
    }),
  );
  if (errors > 0) ctx.notes.push(`a: ${errors} dispatches failed during the measurement`);
}
