import { Command, InvalidArgumentError, Option } from 'commander';
import { envOption, FLAG_ENV } from './env-options.js';
import { parseTags } from './node-agent.js';
import { NODE_AGENT_VERSION } from './version.js';

type Env = Record<string, string | undefined>;

/** Parsed flags of `connect` / `start`. */
export interface RunFlags {
  configPath?: string;
  name?: string;
  tags?: string[];
  maxInFlight?: number;
  logFormat: 'pretty' | 'json';
  logLevel: string;
  drainTimeoutMs: number;
  ephemeral?: boolean;
  healthPort?: number;
  healthHost?: string;
}

/** Parsed flags of `connect`. */
export interface ConnectFlags extends RunFlags {
  pairingToken?: string;
  pairingTokenFile?: string;
  apiBase?: string;
  replace?: boolean;
  reuseIdentity?: boolean;
}

/** Parsed flags of `remove`. */
export interface RemoveFlags {
  configPath?: string;
  force?: boolean;
}

/** Parsed flags of `rotate`. */
export interface RotateFlags {
  configPath?: string;
  waitMs: number;
}

/** Parsed flags of `status`. */
export interface StatusFlags {
  configPath?: string;
  json?: boolean;
}

/** Parsed flags of `service install|uninstall|status`. */
export interface ServiceFlags {
  configPath?: string;
  serviceUser?: string;
  unitName?: string;
  unitDir?: string;
  print?: boolean;
}

/** What the program calls once the flags are parsed. */
export interface CliActions {
  connect(flags: ConnectFlags): Promise<void>;
  start(flags: RunFlags): Promise<void>;
  remove(flags: RemoveFlags): Promise<void>;
  status(flags: StatusFlags): Promise<void>;
  rotate(flags: RotateFlags): Promise<void>;
  service(action: 'install' | 'uninstall' | 'status', flags: ServiceFlags): Promise<void>;
}

function intIn(min: number, max: number, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be ${what} from ${min} to ${max}`);
    return n;
  };
}

function choice<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) throw new InvalidArgumentError(`must be one of ${values.join(', ')}`);
    return value as T;
  };
}

function tagList(value: string): string[] {
  try {
    return parseTags(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function configPathOption(env: Env): Option {
  return envOption(
    env,
    'VESPID_AGENT_CONFIG_PATH',
    '--config-path <path>',
    'agent config file (identity: agentId, token, gateway URL; default ~/.vespid/agent.json)',
  );
}

function runOptions(cmd: Command, env: Env): Command {
  return cmd
    .addOption(configPathOption(env))
    .addOption(
      envOption(env, 'VESPID_AGENT_NAME', '--name <name>', 'agent name shown on /agents (connect: default host name; start: saved name)'),
    )
    .addOption(
      envOption(env, 'VESPID_AGENT_TAGS', '--tags <list>', 'comma-separated tags reported in hello, e.g. "east,group:alpha"', tagList),
    )
    .addOption(
      envOption(
        env,
        'VESPID_AGENT_MAX_IN_FLIGHT',
        '--max-in-flight <n>',
        'tasks run at once (default 10; 1 with --ephemeral)',
        intIn(1, 10_000, 'an integer'),
      ),
    )
    .addOption(
      envOption(env, 'VESPID_AGENT_EPHEMERAL', '--ephemeral', 'take exactly one task, then deregister, delete the config and exit'),
    )
    .addOption(
      envOption(
        env,
        'VESPID_AGENT_HEALTH_PORT',
        '--health-port <port>',
        'serve /healthz and Prometheus /metrics on this port',
        intIn(0, 65_535, 'a port'),
      ),
    )
    .addOption(
      envOption(env, 'VESPID_AGENT_HEALTH_HOST', '--health-host <host>', 'address of the health server', undefined, { value: '127.0.0.1' }),
    )
    .addOption(
      envOption(env, 'VESPID_AGENT_LOG_FORMAT', '--log-format <format>', 'log lines: pretty or json', choice(['pretty', 'json'] as const), {
        value: 'pretty',
      }),
    )
    .addOption(new Option('--json', 'shorthand for --log-format json').implies({ logFormat: 'json' }))
    .addOption(
      envOption(
        env,
        'VESPID_AGENT_LOG_LEVEL',
        '--log-level <level>',
        'log level: debug, info, warn, error',
        choice(['debug', 'info', 'warn', 'error'] as const),
        {
          value: 'info',
        },
      ),
    )
    .addOption(
      envOption(
        env,
        'VESPID_AGENT_DRAIN_TIMEOUT_MS',
        '--drain-timeout-ms <ms>',
        'on SIGINT/SIGTERM: time to finish running tasks before aborting them',
        intIn(0, 3_600_000, 'milliseconds'),
        {
          value: 30_000,
        },
      ),
    );
}

function serviceOptions(cmd: Command, env: Env): Command {
  return cmd
    .addOption(configPathOption(env))
    .addOption(
      envOption(env, 'VESPID_AGENT_SERVICE_USER', '--service-user <user>', 'system user the service runs as', undefined, {
        value: 'vespid-agent',
      }),
    )
    .addOption(envOption(env, 'VESPID_AGENT_SERVICE_NAME', '--unit-name <name>', 'systemd unit name', undefined, { value: 'vespid-agent' }))
    .addOption(
      envOption(env, 'VESPID_AGENT_SERVICE_UNIT_DIR', '--unit-dir <dir>', 'where the unit file goes', undefined, {
        value: '/etc/systemd/system',
      }),
    )
    .addOption(envOption(env, 'VESPID_AGENT_SERVICE_PRINT', '--print', 'print what would be done (the unit file) without doing it'));
}

/**
 * The commander program of `vespid-agent`. Parse errors throw commander errors; a bad environment
 * value throws a `UsageError` while the program is built. Both mean exit code 2.
 */
export function buildProgram(actions: CliActions, env: Env, write: { out(s: string): void; err(s: string): void }): Command {
  const program = new Command('vespid-agent')
    .description('Vespid node-agent: pair with the control plane and run remote workflow nodes')
    .version(NODE_AGENT_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err, outputError: () => {} })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Every flag also reads an environment variable (shown as "env …"); a flag given on the command line wins.
Other environment:
  VESPID_AGENT_EXEC_BACKEND     "docker" enables agent.execute in a sandbox (needs dockerode); unset =
                                agent.execute fails with SANDBOX_BACKEND_NOT_CONFIGURED (nothing runs on the host)
  VESPID_AGENT_WORKDIR_ROOT, VESPID_AGENT_DOCKER_*   sandbox settings (see the runbook)
  VESPID_AGENT_TLS_CA_FILE      PEM of a private CA for wss:// / https://
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY   proxies for the gateway WebSocket and the control-plane calls

Exit codes: 0 done, 1 failure (refused pairing, revoked, unreachable for good), 2 usage error, 130 second Ctrl-C.

Examples:
  vespid-agent connect --pairing-token <token> --api-base http://localhost:3001 --tags "east,group:alpha"
  VESPID_PAIRING_TOKEN_FILE=/run/secrets/pairing vespid-agent connect --api-base https://api.example.com
  vespid-agent status
  vespid-agent rotate
  vespid-agent remove`,
    );

  runOptions(
    program
      .command('connect')
      .description('pair with a pairing token, save the identity (0600), then run the agent')
      .addOption(
        envOption(env, 'VESPID_PAIRING_TOKEN', '--pairing-token <token>', 'single-use pairing token from /agents (valid 15 minutes)'),
      )
      .addOption(
        envOption(
          env,
          'VESPID_PAIRING_TOKEN_FILE',
          '--pairing-token-file <path>',
          'read the pairing token from a file ("-" = stdin), keeping it out of ps',
        ),
      )
      .addOption(envOption(env, 'VESPID_API_BASE', '--api-base <url>', 'control-plane (api) base URL, e.g. http://localhost:3001'))
      .addOption(
        envOption(
          env,
          'VESPID_AGENT_REPLACE',
          '--replace',
          'replace an existing identity at the config path (the old agent is deregistered)',
        ),
      )
      .addOption(
        envOption(
          env,
          'VESPID_AGENT_REUSE_IDENTITY',
          '--reuse-identity',
          'if an identity exists, run it instead of pairing (containers, services: restarts never re-pair)',
        ),
      ),
    env,
  ).action(async (flags: ConnectFlags) => actions.connect(flags));

  runOptions(program.command('start').description('run the agent from the saved identity (no re-pairing)'), env).action(
    async (flags: RunFlags) => actions.start(flags),
  );

  program
    .command('remove')
    .description('deregister this agent (revokes its token on the control plane) and delete its saved identity')
    .addOption(configPathOption(env))
    .addOption(
      envOption(env, 'VESPID_AGENT_REMOVE_FORCE', '--force', 'delete the local identity even if the control plane cannot be reached'),
    )
    .action(async (flags: RemoveFlags) => actions.remove(flags));

  program
    .command('rotate')
    .description(
      'get a new agent token: the running agent receives it from the gateway and saves it (0600); the old one keeps working for the overlap window',
    )
    .addOption(configPathOption(env))
    .addOption(
      envOption(
        env,
        'VESPID_AGENT_ROTATE_WAIT_MS',
        '--wait-ms <ms>',
        'how long to wait for the running agent to save its new token',
        intIn(0, 3_600_000, 'milliseconds'),
        {
          value: 30_000,
        },
      ),
    )
    .action(async (flags: RotateFlags) => actions.rotate(flags));

  program
    .command('status')
    .description('print the saved identity: name, agent id, org, control plane, gateway URL, tags, version, last connection')
    .addOption(configPathOption(env))
    .option('--json', 'one JSON object instead of lines')
    .action(async (flags: StatusFlags) => actions.status(flags));

  const service = program.command('service').description('run the agent as a systemd service (Linux)');
  for (const [name, description] of [
    ['install', 'write the systemd unit, create the service user, enable and start it (root)'],
    ['uninstall', 'stop, disable and delete the systemd unit (root; the identity stays)'],
    ['status', 'show whether the unit is installed, enabled and active'],
  ] as const) {
    serviceOptions(service.command(name).description(description), env).action(async (flags: ServiceFlags) => actions.service(name, flags));
  }
  return program;
}

/** Flag → environment variable, for docs and tests. */
export { FLAG_ENV };
