import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

/**
 * Paths pino censors in every api log line: credentials in headers and any field named like a token
 * or secret. Routes never log those fields in the first place; this is the second belt.
 *
 * @example
 * ```ts
 * pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
 * ```
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'agentToken',
  '*.agentToken',
  'pairingToken',
  '*.pairingToken',
  'secret',
  '*.secret',
  'value',
  '*.value',
  'key',
  '*.key',
];

/**
 * The api host's pino logger (JSON lines, redacted).
 *
 * @example
 * ```ts
 * const logger = createApiLogger({ level: 'info' });
 * ```
 */
export function createApiLogger(options: { level?: string; destination?: DestinationStream } = {}): PinoLogger {
  return pino(
    { name: 'vespid-api', level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    options.destination,
  );
}
