#!/usr/bin/env node
// `pnpm demo`: runs the one-command demo of the full stack (examples/demo). With no DATABASE_URL /
// REDIS_URL it uses embedded defaults. Forwards signals so Ctrl-C shuts the stack down cleanly.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TSX_TSCONFIG_PATH: `${root}examples/demo/tsconfig.json` },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
