/**
 * `vespid-agent` — the reference node-agent CLI.
 *   vespid-agent connect --pairing-token <t> --api-base http://localhost:3001 --tags "east,group:alpha"
 *   vespid-agent start | status | rotate | remove | service install|uninstall|status
 * Exit codes (exit-codes.ts): 0 done, 1 runtime failure, 2 usage error, 130 a second Ctrl-C.
 */
import { defaultAgentConfigPath, expandHome } from '@vespid/sdk-agent';
import { CommanderError } from 'commander';
import { withoutConnectionLines } from './connection-feedback.js';
import { CliError, EXIT, UsageError } from './exit-codes.js';
import { identityExists } from './identity.js';
import { createCliLogger } from './logger.js';
import { connectNodeAgent, type RunningNodeAgent, startNodeAgent } from './node-agent.js';
import { resolvePairingToken } from './pairing-token.js';
import { buildProgram, type RunFlags } from './program.js';
import { removeAgent } from './remove.js';
import { rotateAgentToken } from './rotate.js';
import { superviseAgent } from './run-agent.js';
import { serviceCommand } from './service.js';
import { formatStatus, readStatus } from './status.js';

/** Process-level hooks, injectable so tests can run the CLI in-process. */
export interface CliIo {
  env: Record<string, string | undefined>;
  out(s: string): void;
  err(s: string): void;
  /** Log destination. @default process.stdout */
  logDestination?: NodeJS.WritableStream;
  /** Standard input (for `--pairing-token-file -`). @default process.stdin */
  stdin?: NodeJS.ReadableStream;
  /** Installs SIGINT/SIGTERM handlers that call `stop`; returns an uninstaller. */
  onSignal?(stop: (signal: string) => void): () => void;
  /** Called once the agent runs (tests use it to stop it). */
  onStarted?(running: RunningNodeAgent): void;
}

function processSignals(stop: (signal: string) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    // A second signal means "now": skip the drain.
    if (++count > 1) process.exit(EXIT.interrupted);
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** One line for the operator: the message, the code when the message lacks it, and a hint line. */
function describeError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  const hint = e instanceof CliError ? e.hint : (e as { details?: { hint?: unknown } }).details?.hint;
  const tag = typeof code === 'string' && !message.includes(code) && !(e instanceof CliError) ? ` [${code}]` : '';
  return `vespid-agent: ${message}${tag}\n${typeof hint === 'string' ? `  hint: ${hint}\n` : ''}`;
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
  let code: number = EXIT.ok;
  const configPathOf = (flags: { configPath?: string | undefined }) => expandHome(flags.configPath ?? defaultAgentConfigPath(env), env);

  const runAgent = async (
    command: 'connect' | 'start',
    flags: RunFlags,
    extra: { pairingToken?: string; apiBase?: string; replace?: boolean },
  ) => {
    const logger = createCliLogger({
      json: flags.logFormat === 'json',
      level: flags.logLevel,
      destination: io.logDestination ?? process.stdout,
    });
    const common = {
      env,
      logger,
      runtimeLogger: withoutConnectionLines(logger),
      configPath: configPathOf(flags),
      ...(flags.name ? { name: flags.name } : {}),
      ...(flags.tags ? { tags: flags.tags } : {}),
      // An ephemeral agent takes one task at a time: the first one is its only one.
      ...(flags.ephemeral ? { maxInFlight: 1 } : flags.maxInFlight ? { maxInFlight: flags.maxInFlight } : {}),
    };
    const running =
      command === 'connect'
        ? await connectNodeAgent({
            ...common,
            pairingToken: extra.pairingToken!,
            ...(extra.apiBase ? { apiBase: extra.apiBase } : {}),
            replace: Boolean(extra.replace),
          })
        : await startNodeAgent(common);
    io.onStarted?.(running);
    code = await superviseAgent(running, {
      logger,
      env,
      drainTimeoutMs: flags.drainTimeoutMs,
      ephemeral: Boolean(flags.ephemeral),
      healthPort: flags.healthPort,
      healthHost: flags.healthHost,
      onSignal: io.onSignal ?? processSignals,
      err,
    });
  };

  try {
    const program = buildProgram(
      {
        async connect(flags) {
          if (flags.reuseIdentity && !flags.replace && (await identityExists(configPathOf(flags)))) {
            // Restarted container or service: the single-use pairing token is spent; run what it bought.
            return runAgent('start', flags, {});
          }
          if (!flags.apiBase)
            throw new UsageError('missing --api-base <url> (or VESPID_API_BASE): the control plane (api) URL, e.g. http://localhost:3001');
          const pairingToken = await resolvePairingToken({
            token: flags.pairingToken,
            file: flags.pairingTokenFile,
            ...(io.stdin ? { stdin: io.stdin } : {}),
          });
          await runAgent('connect', flags, { pairingToken, apiBase: flags.apiBase, replace: Boolean(flags.replace) });
        },
        start: (flags) => runAgent('start', flags, {}),
        async remove(flags) {
          const logger = createCliLogger({ level: 'warn', destination: io.logDestination ?? process.stdout });
          await removeAgent(configPathOf(flags), { force: flags.force, env, logger, out });
        },
        async status(flags) {
          const status = await readStatus(configPathOf(flags));
          out(flags.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
        },
        rotate: (flags) => rotateAgentToken(configPathOf(flags), { waitMs: flags.waitMs, env, out }),
        service: (action, flags) => serviceCommand(action, flags, { env, out }),
      },
      env,
      { out, err },
    );
    await program.parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      err(`vespid-agent: ${e.message.replace(/^error: /, '')}\n`);
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      err(`vespid-agent: ${e.message}\n`);
      return EXIT.usage;
    }
    err(describeError(e));
    return EXIT.failure;
  }
}
