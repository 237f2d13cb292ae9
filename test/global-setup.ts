import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serviceAvailable } from './services.js';

/**
 * Builds the local sandbox images once per test run when a Docker engine answers and they are
 * missing, so `pnpm test` alone sets up everything on a machine that has Docker.
 */
export default async function setup(): Promise<void> {
  const hasDocker = await serviceAvailable('docker').catch(() => false);
  if (!hasDocker) return;
  const script = fileURLToPath(new URL('../scripts/build-sandbox-images.sh', import.meta.url));
  execFileSync('bash', [script, '--if-missing'], { stdio: 'inherit' });
}
