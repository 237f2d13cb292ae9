import { Option } from 'commander';
import { UsageError } from './exit-codes.js';

type Env = Record<string, string | undefined>;

/**
 * Every flag's environment variable, in one table (help text, README and tests read it). A flag on the
 * command line wins over its variable.
 */
export const FLAG_ENV = {
  '--pairing-token': 'VESPID_PAIRING_TOKEN',
  '--pairing-token-file': 'VESPID_PAIRING_TOKEN_FILE',
  '--api-base': 'VESPID_API_BASE',
  '--replace': 'VESPID_AGENT_REPLACE',
  '--reuse-identity': 'VESPID_AGENT_REUSE_IDENTITY',
  '--ephemeral': 'VESPID_AGENT_EPHEMERAL',
  '--config-path': 'VESPID_AGENT_CONFIG_PATH',
  '--name': 'VESPID_AGENT_NAME',
  '--tags': 'VESPID_AGENT_TAGS',
  '--max-in-flight': 'VESPID_AGENT_MAX_IN_FLIGHT',
  '--log-format': 'VESPID_AGENT_LOG_FORMAT',
  '--log-level': 'VESPID_AGENT_LOG_LEVEL',
  '--drain-timeout-ms': 'VESPID_AGENT_DRAIN_TIMEOUT_MS',
  '--health-port': 'VESPID_AGENT_HEALTH_PORT',
  '--health-host': 'VESPID_AGENT_HEALTH_HOST',
  '--force': 'VESPID_AGENT_REMOVE_FORCE',
  '--service-user': 'VESPID_AGENT_SERVICE_USER',
  '--unit-name': 'VESPID_AGENT_SERVICE_NAME',
  '--unit-dir': 'VESPID_AGENT_SERVICE_UNIT_DIR',
  '--print': 'VESPID_AGENT_SERVICE_PRINT',
  '--wait-ms': 'VESPID_AGENT_ROTATE_WAIT_MS',
} as const;

export type EnvFlag = keyof typeof FLAG_ENV;

/**
 * A commander option whose default comes from its environment variable `name` (read from the injected `env`,
 * so tests and embedders control it). The variable is parsed with the same parser as the flag; a bad
 * value is a usage error naming the variable.
 */
export function envOption<T>(
  env: Env,
  name: (typeof FLAG_ENV)[EnvFlag],
  flags: `${EnvFlag}${string}`,
  description: string,
  parse?: (value: string) => T,
  fallback?: { value: T; label?: string },
): Option {
  const flag = flags.split(/[ ,]/)[0] as EnvFlag;
  // The variable is spelled at the call site (docs:check finds reads there) and must match the table.
  if (FLAG_ENV[flag] !== name) throw new Error(`${flag} reads ${FLAG_ENV[flag]}, not ${name}`);
  const option = new Option(flags, `${description} (env ${name})`);
  if (parse) option.argParser((value: string) => parse(value));
  const raw = env[name];
  if (raw !== undefined && raw.trim() !== '') {
    let value: unknown = raw;
    try {
      value = parse ? parse(raw) : option.isBoolean() ? parseBool(raw) : raw;
    } catch (err) {
      throw new UsageError(`${name}=${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
    option.default(value);
  } else if (fallback) {
    option.default(fallback.value, fallback.label);
  }
  return option;
}

/** `1/true/yes/on` and `0/false/no/off` (any case); anything else is a usage error. */
export function parseBool(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new Error('must be true or false');
}
