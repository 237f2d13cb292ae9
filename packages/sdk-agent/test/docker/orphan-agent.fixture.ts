/**
 * A throw-away agent process for the sweep test: it starts a long sandbox run and waits to be killed
 * with SIGKILL, leaving its container behind like a crashed agent would.
 */
import { dockerSandboxExecutor } from '../../src/docker/index.js';
import { BUSYBOX, captureLogger, context, shell, task } from './test-helpers.js';

const ex = dockerSandboxExecutor({
  image: BUSYBOX,
  workdirRoot: process.env.ORPHAN_WORKDIR_ROOT!,
  scope: process.env.ORPHAN_SCOPE!,
  sweepIntervalMs: 0,
  // With a warm pool, the killed agent also leaves its idle pre-created containers behind.
  poolSize: Number(process.env.ORPHAN_POOL_SIZE ?? 0),
});
await ex.start();
await ex.execute(task(shell('echo orphan; sleep 120', { timeoutMs: 120_000 }), { requestId: 'orphanrun:n1:0' }), context(captureLogger()));
