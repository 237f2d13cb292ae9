/**
 * `pnpm --filter @vespid/example-gateway dev`: starts the gateway host from the environment and
 * drains it on SIGINT/SIGTERM (`handleShutdown`: a duplicate signal from the process group keeps draining).
 */
import { handleShutdown } from '@vespid/example-db';
import { GatewayConfigError } from './config.js';
import { startGatewayHost } from './host.js';

try {
  const host = await startGatewayHost(process.env);
  handleShutdown({ name: 'gateway', delayMs: 15_000, close: () => host.close({ timeoutMs: 10_000 }) });
} catch (err) {
  // One clear line, no stack, no env values.
  const message = err instanceof GatewayConfigError ? err.message : `failed to start: ${(err as Error).message}`;
  process.stderr.write(`gateway: ${message}\n`);
  process.exit(1);
}
