/**
 * `pnpm --filter @vespid/example-api dev`: the control-plane API on API_HOST:API_PORT (0.0.0.0:3001).
 * The host owns signals: `handleShutdown` drains on SIGINT/SIGTERM (a duplicate signal from the process
 * group keeps draining) and forces after 10 s.
 */
import { handleShutdown } from '@vespid/example-db';
import { startApiHost } from './host.js';

let api: Awaited<ReturnType<typeof startApiHost>>;
try {
  api = await startApiHost(process.env);
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`api failed to start: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
}

handleShutdown({ name: 'api', delayMs: 10_000, close: () => api.close({ timeoutMs: 8_000 }) });
