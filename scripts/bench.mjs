#!/usr/bin/env node
// `pnpm bench`: runs the benchmark suite in bench/ (each scenario prints figures next to a baseline
// measured in the same run and writes bench/results/latest.json).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = `${root}bench/run.ts`;
if (!existsSync(entry)) {
  console.error('bench: no benchmark suite yet (bench/run.ts)');
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', 'tsx', entry, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TSX_TSCONFIG_PATH: `${root}tsconfig.json` },
});
child.on('exit', (code) => process.exit(code ?? 1));
