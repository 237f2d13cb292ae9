// A stand-in host for the shutdown tests: installs handleShutdown; its close() finishes when a line
// arrives on stdin (written by the test once it has seen what it waits for), so the drain lasts
// exactly as long as needed. (Not a signal: during a drain close-with-grace exits on any other one.)
import { handleShutdown } from '../src/host/shutdown.js';

const release = new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
handleShutdown({
  name: 'fixture',
  duplicateWindowMs: Number(process.env.DUPLICATE_WINDOW_MS ?? '3000'),
  close: async ({ signal }) => {
    await release;
    process.stderr.write(`fixture: closed after ${signal}\n`);
  },
});
setInterval(() => {}, 1 << 30); // a host keeps the loop alive
process.stderr.write('fixture: ready\n');
