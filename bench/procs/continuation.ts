/**
 * Scenario d: a worker with `createContinuationRunner` (memory cursor store, BullMQ continuation queue,
 * Redis push on or off). Records the monotonic time at which `onResult` runs for each request.
 */
import { BENCH_ORG } from '../lib/fleet-auth.js';
import { NOOP_KIND } from '../lib/noop-executor.js';
import { num, nowMs, serve, str } from '../lib/rpc.js';
import {
  type ContinuationRunner,
  type DispatchClient,
  createContinuationRunner,
  createDispatchClient,
  memoryCursorStore,
} from '@vespid/sdk-dispatch';
import { bullmqQueue, redisResultPush } from '@vespid/sdk-dispatch/redis';

let runner: ContinuationRunner | undefined;
let client: DispatchClient | undefined;
const applied = new Map<string, { at: number; source: string }>();
const waiters = new Map<string, () => void>();
let runSeq = 0;

serve({
  async start(args) {
    client = createDispatchClient({ gatewayHttpUrl: str(args, 'httpUrl'), serviceToken: str(args, 'serviceToken') });
    const prefix = str(args, 'prefix');
    runner = createContinuationRunner({
      client,
      store: memoryCursorStore(),
      ...(args.push === true ? { push: redisResultPush({ connection: str(args, 'redisUrl'), channel: `${prefix}:results` }) } : {}),
      queue: bullmqQueue({
        connection: str(args, 'redisUrl'),
        queueName: str(args, 'queueName'),
        prefix: `${prefix}:bull`,
        concurrency: 64,
      }),
      pollMs: num(args, 'pollMs', 2000),
      onResult: ({ result }) => {
        applied.set(result.requestId, { at: nowMs(), source: result.source });
        waiters.get(result.requestId)?.();
      },
    });
    await runner.start();
    return true;
  },
  /** Blocks `n` node attempts, `concurrency` at a time; each waits (bounded) for its onResult. */
  async run(args) {
    const r = runner;
    if (!r) throw new Error('not started');
    const n = num(args, 'n', 100);
    const concurrency = num(args, 'concurrency', 1);
    const sleepMaxMs = num(args, 'sleepMaxMs', 0);
    const waitMs = num(args, 'waitMs', 10_000);
    const runId = `cont${process.pid}x${++runSeq}x${Date.now()}`;
    let next = 0;
    let missing = 0;
    const one = async (i: number) => {
      const requestId = `${runId}-${i}:n:0`;
      const done = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), waitMs);
        waiters.set(requestId, () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      const sleepMs = sleepMaxMs > 0 ? Math.floor(Math.random() * sleepMaxMs) : 0;
      await r.block({
        organizationId: BENCH_ORG,
        runId: `${runId}-${i}`,
        nodeId: 'n',
        attempt: 0,
        kind: NOOP_KIND,
        payload: { sleepMs },
        timeoutMs: 30_000,
      });
      if (!(await done)) missing++;
      waiters.delete(requestId);
    };
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await one(next++);
      }),
    );
    const out = Object.fromEntries(applied);
    applied.clear();
    return { applied: out, missing };
  },
  async stop() {
    await runner?.close({ timeoutMs: 3000 });
    await client?.close({ timeoutMs: 1000 });
    setImmediate(() => process.exit(0));
    return true;
  },
});
