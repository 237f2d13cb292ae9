import pino, { type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

/** Paths that could ever carry a credential; pino replaces them even if a caller slips. */
export const REDACT_PATHS = [
  'token',
  'agentToken',
  'pairingToken',
  'secret',
  'authorization',
  '*.token',
  '*.agentToken',
  '*.pairingToken',
  '*.secret',
  '*.authorization',
  'headers.authorization',
];

/** Options of {@link createCliLogger}. */
export interface CliLoggerOptions {
  /** JSON lines instead of readable lines. */
  json?: boolean;
  /** pino level. @default info */
  level?: string;
  /** Where to write. @default stdout */
  destination?: NodeJS.WritableStream;
}

/**
 * The CLI's logger: readable single lines by default (pino-pretty, synchronous so nothing is lost on
 * exit), JSON lines with `--log-format json`. Credentials are redacted by path.
 *
 * @example
 * ```ts
 * const logger = createCliLogger({ json: process.env.LOG_FORMAT === 'json' });
 * ```
 */
export function createCliLogger(options: CliLoggerOptions = {}): PinoLogger {
  const base = { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[REDACTED]' }, base: undefined };
  const dest = options.destination ?? process.stdout;
  if (options.json) return pino(base, dest);
  const stream = pretty({
    sync: true,
    destination: dest,
    colorize: Boolean((dest as { isTTY?: boolean }).isTTY),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino(base, stream);
}
