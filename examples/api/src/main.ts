/**
 * `pnpm --filter @vespid/example-api dev`: the control-plane API on API_HOST:API_PORT (0.0.0.0:3001).
 * The host owns signals: close-with-grace drains on SIGINT/SIGTERM and forces after 10 s.
 */
import closeWithGrace from 'close-with-grace';
import { startApiHost } from './host.js';

let api: Awaited<ReturnType<typeof startApiHost>>;
try {
  api = await startApiHost(process.env);
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`api failed to start: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
}

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) process.stderr.write(`api shutting down after error: ${(err as Error).message}\n`);
  await api.close({ timeoutMs: 8_000 });
});
