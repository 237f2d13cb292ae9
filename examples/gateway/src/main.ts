/**
 * `pnpm --filter @vespid/example-gateway dev`: starts the gateway host from the environment and
 * closes it gracefully on SIGINT/SIGTERM (close-with-grace).
 */
import closeWithGrace from 'close-with-grace';
import { GatewayConfigError } from './config.js';
import { startGatewayHost } from './host.js';

try {
  const host = await startGatewayHost(process.env);
  closeWithGrace({ delay: 15_000 }, async ({ err, signal }) => {
    if (err) process.stderr.write(`gateway: fatal error, shutting down: ${err.message}\n`);
    else if (signal) process.stderr.write(`gateway: ${signal}, draining\n`);
    await host.close({ timeoutMs: 10_000 });
  });
} catch (err) {
  // One clear line, no stack, no env values.
  const message = err instanceof GatewayConfigError ? err.message : `failed to start: ${(err as Error).message}`;
  process.stderr.write(`gateway: ${message}\n`);
  process.exit(1);
}
