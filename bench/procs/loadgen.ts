/**
 * Load generator process: the caller side of every latency/throughput scenario. Runs a bounded
 * number of operations (count and time) at a fixed concurrency and returns raw latency samples (ms).
 *   echo     — raw `ws` round trips (baseline of a)
 *   dispatch — `createDispatchClient().dispatch` (waits for the result) against the gateway (a, b), or spread over
 *              several gateway replicas with `httpUrls` (g); `channel: 'ws'` over the dispatch channel, else HTTP
 *   bullmq   — `queue.add` + `job.waitUntilFinished` with the worker in another process (f)
 */
import type { Job } from '../../packages/sdk-dispatch/node_modules/bullmq';
import { type DispatchClient, createDispatchClient } from '@vespid/sdk-dispatch';
import { QueueEvents, Queue, Redis, WebSocket, type WebSocketT } from '../lib/deps.js';
import { BENCH_ORG } from '../lib/fleet-auth.js';
import { NOOP_KIND } from '../lib/noop-executor.js';
import { num, nowMs, serve, str } from '../lib/rpc.js';

/** Runs `op` with `concurrency` loops until `n` ops or `durationMs` elapsed; returns samples and counts. */
async function drive(
  n: number,
  concurrency: number,
  durationMs: number,
  op: (i: number) => Promise<void>,
): Promise<{ samples: number[]; count: number; errors: number; elapsedMs: number; firstError?: string }> {
  const samples: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = nowMs();
  const deadline = start + durationMs;
  const loop = async () => {
    while (next < n && nowMs() < deadline) {
      const i = next++;
      const t0 = nowMs();
      try {
        await op(i);
        samples.push(nowMs() - t0);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        // Bounded even when every op fails: the loop still ends at n or the deadline.
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { samples, count: samples.length, errors, elapsedMs: nowMs() - start, ...(firstError ? { firstError } : {}) };
}

let echo: WebSocketT | undefined;
/** One client per gateway URL and transport, kept across calls (warm connections). */
const clients = new Map<string, DispatchClient>();
let queue: InstanceType<typeof Queue> | undefined;
let events: InstanceType<typeof QueueEvents> | undefined;
let runTag = 0;

async function echoSocket(url: string): Promise<WebSocketT> {
  if (echo) return echo;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  echo = ws;
  return ws;
}

/** Opens the client's channel (its first call goes over HTTP while it connects) before anything is measured. */
async function channelOpen(c: DispatchClient): Promise<void> {
  await c.dispatch({
    organizationId: BENCH_ORG,
    requestId: `warm-${process.pid}-${Date.now()}:0`,
    kind: NOOP_KIND,
    payload: {},
    timeoutMs: 10_000,
  });
  const deadline = nowMs() + 10_000;
  while (c.channelState !== 'open') {
    if (nowMs() > deadline) throw new Error(`dispatch channel did not open (${c.channelState})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

serve({
  async echo(args) {
    const ws = await echoSocket(str(args, 'url'));
    // About the size of an `execute` frame of a no-op request.
    const frame = JSON.stringify({
      type: 'execute',
      requestId: 'x'.repeat(40),
      organizationId: BENCH_ORG,
      kind: NOOP_KIND,
      payload: {},
      timeoutMs: 10000,
    });
    let waiter: (() => void) | undefined;
    ws.on('message', () => waiter?.());
    const r = await drive(num(args, 'n', 1000), 1, num(args, 'durationMs', 30_000), () => {
      return new Promise<void>((resolve) => {
        waiter = resolve;
        ws.send(frame);
      });
    });
    ws.removeAllListeners('message');
    return r;
  },
  async dispatch(args) {
    const concurrency = num(args, 'concurrency', 1);
    // Several URLs (scenario g): operation i (request id `<tag>:<i>`) goes to replica i % n, so callers
    // are spread evenly and a gateway can tell which replica took a request from its id.
    const urls = Array.isArray(args.httpUrls) ? (args.httpUrls as string[]) : [str(args, 'httpUrl')];
    // HTTP unless asked: the rows measured before the channel existed stay comparable.
    const channel = args.channel === 'ws' ? 'ws' : 'http';
    const cs = await Promise.all(
      urls.map(async (url) => {
        let c = clients.get(`${channel} ${url}`);
        if (!c) {
          c = createDispatchClient({
            gatewayHttpUrl: url,
            serviceToken: str(args, 'serviceToken'),
            connections: Math.max(16, num(args, 'connections', 64)),
            channel,
          });
          clients.set(`${channel} ${url}`, c);
          if (channel === 'ws') await channelOpen(c);
        }
        return c;
      }),
    );
    const tag = `r${process.pid}-${++runTag}-${Date.now()}`;
    const traced: Record<string, [number, number]> = {};
    const trace = args.trace === true;
    const r = await drive(num(args, 'n', 1000), concurrency, num(args, 'durationMs', 30_000), async (i) => {
      const t0 = nowMs();
      const at = i % cs.length;
      const res = await (cs[at] as DispatchClient).dispatch({
        organizationId: BENCH_ORG,
        requestId: `${tag}:${i}`,
        kind: NOOP_KIND,
        payload: {},
        timeoutMs: 10_000,
        // Scenario q: requests that find the agent busy wait in the gateway's queue.
        ...(args.queueTimeoutMs ? { queueTimeoutMs: num(args, 'queueTimeoutMs', 0) } : {}),
      });
      if (res.status !== 'succeeded') throw new Error(`dispatch ${res.status}: ${res.error?.code ?? ''}`);
      if (trace) traced[`${tag}:${i}`] = [t0, nowMs()];
    });
    return trace ? { ...r, traced } : r;
  },
  async bullmq(args) {
    const connection = { url: str(args, 'redisUrl') };
    const prefix = str(args, 'prefix');
    const name = str(args, 'queue');
    if (!queue) {
      queue = new Queue(name, { connection: new Redis(connection.url, { maxRetriesPerRequest: null }), prefix });
      events = new QueueEvents(name, { connection: new Redis(connection.url, { maxRetriesPerRequest: null }), prefix });
      await events.waitUntilReady();
    }
    const q = queue;
    const ev = events as InstanceType<typeof QueueEvents>;
    return drive(num(args, 'n', 1000), num(args, 'concurrency', 1), num(args, 'durationMs', 30_000), async () => {
      // Completed jobs are kept (bounded): with removal, a fast job can vanish before waitUntilFinished looks.
      const job: Job = await q.add('noop', {}, { removeOnComplete: 5000, removeOnFail: 5000 });
      await job.waitUntilFinished(ev, 10_000);
    });
  },
  async stop() {
    echo?.terminate();
    await Promise.all([...clients.values()].map((c) => c.close({ timeoutMs: 2000 })));
    if (queue) await queue.obliterate({ force: true }).catch(() => {});
    await events?.close();
    await queue?.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});
