import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

/**
 * Paths pino censors in every gateway log line. The library never logs secrets or tokens; this is the
 * second belt for anything a host adds.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'agentToken',
  '*.agentToken',
  'serviceToken',
  '*.serviceToken',
  'secret',
  '*.secret',
  'payload',
  '*.payload',
];

/**
 * The gateway host's pino logger (JSON lines, redacted).
 *
 * @example
 * ```ts
 * const logger = createGatewayLogger({ level: 'info' });
 * ```
 */
export function createGatewayLogger(options: { level?: string; destination?: DestinationStream } = {}): PinoLogger {
  return pino(
    { name: 'vespid-gateway', level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    options.destination,
  );
}
