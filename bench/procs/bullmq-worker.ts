/** Scenario f: the BullMQ worker a user would run instead of an agent, with a no-op processor. */
import { Redis, Worker } from '../lib/deps.js';
import { num, serve, str } from '../lib/rpc.js';

let worker: InstanceType<typeof Worker> | undefined;

serve({
  async start(args) {
    const w = new Worker<unknown, unknown>(str(args, 'queue'), async () => ({ ok: true }), {
      connection: new Redis(str(args, 'redisUrl'), { maxRetriesPerRequest: null }),
      prefix: str(args, 'prefix'),
      concurrency: num(args, 'concurrency', 64),
    });
    worker = w;
    await w.waitUntilReady();
    return true;
  },
  async stop() {
    await worker?.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});
