// The example worker process: `pnpm --filter @vespid/example-worker dev`.
import { handleShutdown } from '@vespid/example-db';
import pino from 'pino';
import { startWorkerHost } from './host.js';

const logger = pino({
  level: process.env.WORKER_LOG_LEVEL ?? 'info',
  redact: { paths: ['secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
});

try {
  const host = await startWorkerHost({ logger });
  handleShutdown({
    name: 'worker',
    delayMs: 15_000,
    close: async ({ signal, err }) => {
      if (err) logger.error({ err: err.message }, 'worker crashed');
      logger.info({ signal }, 'worker shutting down');
      await host.close({ timeoutMs: 10_000 });
    },
  });
} catch (err) {
  console.error(`worker: ${(err as Error).message}`);
  process.exit(1);
}
