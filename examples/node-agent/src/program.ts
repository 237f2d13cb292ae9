import { Command, InvalidArgumentError, Option } from 'commander';
import { AGENT_VERSION } from '@vespid/sdk-agent';
import { parseTags } from './node-agent.js';

/** Parsed flags of `connect` / `start`. */
export interface CliFlags {
  pairingToken?: string;
  apiBase?: string;
  tags?: string[];
  name?: string;
  configPath?: string;
  maxInFlight?: number;
  logFormat: 'pretty' | 'json';
  logLevel: string;
  drainTimeoutMs: number;
}

export type CliAction = (command: 'connect' | 'start', flags: CliFlags) => Promise<void>;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be an integer from 1 to 10000');
  return n;
}

function tagList(value: string): string[] {
  try {
    return parseTags(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function common(cmd: Command, env: Record<string, string | undefined>): Command {
  return cmd
    .addOption(
      new Option('--config-path <path>', 'agent config file (agentId, token, gateway URL)').default(
        env.VESPID_AGENT_CONFIG_PATH,
        'VESPID_AGENT_CONFIG_PATH or ~/.vespid/agent.json',
      ),
    )
    .option('--name <name>', 'agent name shown in /agents (connect: default host name; start: saved name)')
    .addOption(
      new Option('--tags <list>', 'comma-separated tags for targeted dispatch, e.g. "east,group:alpha" (env VESPID_AGENT_TAGS)').argParser(
        tagList,
      ),
    )
    .addOption(new Option('--max-in-flight <n>', 'tasks run at once (reported in hello)').argParser(positiveInt))
    .addOption(new Option('--log-format <format>', 'log lines: readable or JSON').choices(['pretty', 'json']).default('pretty'))
    .addOption(new Option('--json', 'shorthand for --log-format json').implies({ logFormat: 'json' }))
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .addOption(
      new Option('--drain-timeout-ms <ms>', 'on SIGINT/SIGTERM: time to finish running tasks before aborting them')
        .argParser(positiveIntMs)
        .default(30_000),
    );
}

function positiveIntMs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3_600_000) throw new InvalidArgumentError('must be milliseconds from 0 to 3600000');
  return n;
}

/**
 * The commander program of `vespid-agent`. Parse errors throw commander errors (the caller prints one
 * line and exits non-zero).
 */
export function buildProgram(
  action: CliAction,
  env: Record<string, string | undefined>,
  write: { out(s: string): void; err(s: string): void },
): Command {
  const program = new Command('vespid-agent')
    .description('Vespid node-agent: pair with the control plane and run remote workflow nodes')
    .version(AGENT_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err, outputError: () => {} })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Environment:
  VESPID_API_BASE               control-plane URL (fallback for --api-base)
  VESPID_AGENT_CONFIG_PATH      config file (fallback for --config-path)
  VESPID_AGENT_TAGS             tags (fallback for --tags on connect)
  VESPID_AGENT_EXEC_BACKEND     "docker" enables agent.execute in a sandbox; unset = agent.execute fails
                                with SANDBOX_BACKEND_NOT_CONFIGURED (nothing runs on the host)
  VESPID_AGENT_WORKDIR_ROOT, VESPID_AGENT_DOCKER_*   sandbox settings (see the runbook)
  VESPID_AGENT_TLS_CA_FILE      PEM of a private CA for wss:// / https://
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY   proxies for the gateway WebSocket and the pairing call

Example:
  vespid-agent connect --pairing-token <token> --api-base http://localhost:3001 --tags "east,group:alpha"`,
    );

  common(
    program
      .command('connect')
      .description('pair with a pairing token, save the config (0600), then run the agent')
      .requiredOption('--pairing-token <token>', 'single-use pairing token from /agents (valid 15 minutes)')
      .addOption(new Option('--api-base <url>', 'control-plane base URL').default(env.VESPID_API_BASE, 'VESPID_API_BASE')),
    env,
  ).action(async (flags: CliFlags) => action('connect', flags));

  common(program.command('start').description('run the agent from the saved config (no re-pairing)'), env).action(async (flags: CliFlags) =>
    action('start', flags),
  );
  return program;
}
