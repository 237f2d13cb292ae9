/**
 * A fleet of real `createAgent` runtimes with a no-op executor, in one process. Agents start in
 * batches so a 10k fleet does not trip the gateway's pending-upgrade limit; every wait is bounded.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Agent, createAgent } from '@vespid/sdk-agent';
import { fleetToken } from '../lib/fleet-auth.js';
import { noopExecutor } from '../lib/noop-executor.js';
import { num, nowMs, serve, str } from '../lib/rpc.js';

const agents: Agent[] = [];
let connectedAt: number[] = [];
let retries = 0;
/** When each reconnect was scheduled for (monotonic ms), to compare the backoff plan with arrivals. */
let plannedAt: number[] = [];
// Event-loop delay of this fleet process: when it lags, its agents reconnect later than planned.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let connectedNow = 0;
const runs = new Map<string, [number, number]>();
let tracing = false;

function waitUntil(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (pred()) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(tick, 10);
    };
    tick();
  });
}

serve({
  async start(args) {
    const from = num(args, 'from', 0);
    const count = num(args, 'count', 1);
    const batch = num(args, 'batch', 250);
    const started = nowMs();
    const executor = noopExecutor((id, a, b) => {
      if (tracing && runs.size < 200_000) runs.set(id, [a, b]);
    });
    for (let i = 0; i < count; i += batch) {
      const target = connectedNow + Math.min(batch, count - i);
      for (let j = i; j < Math.min(i + batch, count); j++) {
        const n = from + j;
        const agent = createAgent({
          gatewayWsUrl: str(args, 'wsUrl'),
          agentToken: fleetToken(n, str(args, 'secret')),
          name: `bench-${n}`,
          maxInFlight: num(args, 'maxInFlight', 1000),
          executors: [executor],
        });
        let up = false;
        agent.on('connected', () => {
          if (!up) connectedNow++;
          up = true;
          connectedAt.push(nowMs());
        });
        agent.on('disconnected', (d) => {
          if (up) connectedNow--;
          up = false;
          if (d.willReconnect) {
            retries++;
            if (plannedAt.length < 100_000) plannedAt.push(nowMs() + (d.delayMs ?? 0));
          }
        });
        agents.push(agent);
        await agent.start();
      }
      await waitUntil(() => connectedNow >= target, 30_000);
    }
    return { connected: connectedNow, elapsedMs: nowMs() - started };
  },
  trace(args) {
    tracing = args.on === true;
    const out = Object.fromEntries(runs);
    runs.clear();
    return out;
  },
  connected() {
    return connectedNow;
  },
  markReconnect() {
    connectedAt = [];
    plannedAt = [];
    retries = 0;
    loopDelay.reset();
    return true;
  },
  reconnectStats() {
    return {
      connectedAt,
      plannedAt,
      retries,
      connected: connectedNow,
      total: agents.length,
      loopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    };
  },
  /** Closes every agent after the first `keep`. */
  async trim(args) {
    const extra = agents.splice(num(args, 'keep', 0));
    await Promise.all(extra.map((a) => a.close({ timeoutMs: 2000 })));
    await waitUntil(() => connectedNow <= agents.length, 10_000);
    return connectedNow;
  },
  async closeAll() {
    await Promise.all(agents.splice(0).map((a) => a.close({ timeoutMs: 2000 })));
    connectedNow = 0;
    return true;
  },
  async stop() {
    await Promise.all(agents.splice(0).map((a) => a.close({ timeoutMs: 2000 })));
    setImmediate(() => process.exit(0));
    return true;
  },
});
