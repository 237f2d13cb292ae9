#!/usr/bin/env node
/**
 * `vespid-agent` entry point (bin). All logic lives in `run-cli.ts`; this file only runs it and exits
 * with its code, so nothing started by a library (sockets, pools) can keep a stopped agent alive.
 */
import { runCli } from './run-cli.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vespid-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
