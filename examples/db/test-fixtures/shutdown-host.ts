// A stand-in host for the shutdown tests: installs handleShutdown, and its close() takes CLOSE_MS.
import { handleShutdown } from '../src/host/shutdown.js';

const closeMs = Number(process.env.CLOSE_MS ?? '300');
handleShutdown({
  name: 'fixture',
  duplicateWindowMs: Number(process.env.DUPLICATE_WINDOW_MS ?? '3000'),
  close: async ({ signal }) => {
    await new Promise((resolve) => setTimeout(resolve, closeMs));
    process.stderr.write(`fixture: closed after ${signal}\n`);
  },
});
setInterval(() => {}, 1 << 30); // a host keeps the loop alive
process.stderr.write('fixture: ready\n');
