// Behaves like pnpm/npm run: starts the command as a child and forwards SIGTERM/SIGINT to it.
const { spawn } = require('node:child_process');
const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: 'inherit' });
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => child.kill(s));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
