/**
 * Runs the node-agent exactly as the runbook tells an operator to:
 * `pnpm --filter @vespid/node-agent dev -- connect --pairing-token <token> --api-base <url> --tags "…"`,
 * as a separate process, with its output kept in a log file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface AgentProcess {
  child: ChildProcess;
  /** The command line shown to the user (token redacted). */
  display: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

function pnpmCommand(): { cmd: string; pre: string[] } {
  // Under `pnpm demo`, npm_execpath points at pnpm's own entry: reuse it so no global pnpm is needed.
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) return { cmd: process.execPath, pre: [execPath] };
  return { cmd: 'pnpm', pre: [] };
}

export function spawnAgent(options: {
  cwd: string;
  pairingToken: string;
  apiBase: string;
  tags: string;
  configPath: string;
  logFile: string;
  env: Record<string, string | undefined>;
}): AgentProcess {
  const args = [
    '--filter',
    '@vespid/node-agent',
    'dev',
    '--',
    'connect',
    '--pairing-token',
    options.pairingToken,
    '--api-base',
    options.apiBase,
    '--tags',
    options.tags,
  ];
  const { cmd, pre } = pnpmCommand();
  const child = spawn(cmd, [...pre, ...args, '--config-path', options.configPath], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: pnpm does not forward SIGTERM to the script, so stop() signals the group.
    detached: true,
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    display: `pnpm ${args.map((a) => (a === options.pairingToken ? '<token>' : /[\s,]/.test(a) ? `"${a}"` : a)).join(' ')}`,
    exited,
    async stop() {
      const group = (signal: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, signal);
        } catch {
          // The group is already gone.
        }
      };
      if (child.exitCode === null && child.signalCode === null) {
        group('SIGTERM');
        const timer = setTimeout(() => group('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      // pnpm may exit before the agent it started: make sure nothing of the group survives.
      group('SIGTERM');
      log.end();
    },
  };
}
