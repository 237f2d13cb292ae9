/**
 * `vespid-agent` — the reference node-agent CLI.
 *   vespid-agent connect --pairing-token <t> --api-base http://localhost:3001 --tags "east,group:alpha"
 *   vespid-agent start
 * Exit codes: 0 after a graceful stop, 1 on a failed pairing / refused token / bad config, 2 on a bad flag.
 */
import { CommanderError } from 'commander';
import { createCliLogger } from './logger.js';
import { connectNodeAgent, type RunningNodeAgent, startNodeAgent } from './node-agent.js';
import { buildProgram, type CliFlags } from './program.js';

/** Process-level hooks, injectable so tests can run the CLI in-process. */
export interface CliIo {
  env: Record<string, string | undefined>;
  out(s: string): void;
  err(s: string): void;
  /** Log destination. @default process.stdout */
  logDestination?: NodeJS.WritableStream;
  /** Installs SIGINT/SIGTERM handlers that call `stop`; returns an uninstaller. */
  onSignal?(stop: (signal: string) => void): () => void;
  /** Called once the agent runs (tests use it to stop it). */
  onStarted?(running: RunningNodeAgent): void;
}

function processSignals(stop: (signal: string) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    // A second signal means "now": skip the drain.
    if (++count > 1) process.exit(130);
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/**
 * Runs the CLI and resolves with the exit code (never calls process.exit itself).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((s: string) => process.stdout.write(s));
  const err = io.err ?? ((s: string) => process.stderr.write(s));
  // `pnpm --filter @vespid/node-agent dev -- connect …` can hand the script a literal `--` first.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let code = 0;
  const program = buildProgram(
    async (command, flags: CliFlags) => {
      const logger = createCliLogger({
        json: flags.logFormat === 'json',
        level: flags.logLevel,
        destination: io.logDestination ?? process.stdout,
      });
      const common = {
        env,
        logger,
        ...(flags.configPath ? { configPath: flags.configPath } : {}),
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.tags ? { tags: flags.tags } : {}),
        ...(flags.maxInFlight ? { maxInFlight: flags.maxInFlight } : {}),
      };
      const running =
        command === 'connect'
          ? await connectNodeAgent({ ...common, pairingToken: flags.pairingToken!, ...(flags.apiBase ? { apiBase: flags.apiBase } : {}) })
          : await startNodeAgent(common);
      const uninstall = (io.onSignal ?? processSignals)((signal) => {
        logger.info(
          { signal, inFlight: running.agent.inFlight, drainTimeoutMs: flags.drainTimeoutMs },
          'stopping: finishing running tasks',
        );
        void running.agent.close({ timeoutMs: flags.drainTimeoutMs });
      });
      io.onStarted?.(running);
      const stop = await running.agent.done;
      uninstall();
      if (stop.error) {
        err(`vespid-agent: ${stop.error.message}\n`);
        code = 1;
      } else {
        logger.info({}, 'agent stopped');
      }
    },
    env,
    { out, err },
  );
  try {
    await program.parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      err(`vespid-agent: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    const c = (e as { code?: unknown }).code;
    err(`vespid-agent: ${message}${typeof c === 'string' && !message.includes(c) ? ` [${c}]` : ''}\n`);
    return 1;
  }
}
