/**
 * A pino-compatible, object-first logger: `logger.info({ agentId, requestId }, 'dispatched')`.
 * Every Vespid library takes one as an option and defaults to {@link noopLogger}. Never pass a secret
 * in the object: hosts redact known paths, but the libraries do not rely on that.
 *
 * @example
 * ```ts
 * const logger: Logger = pino({ redact: ['secret', 'token'] });
 * createGateway({ authenticator, serviceToken, logger });
 * ```
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): Logger;
}

const noop = () => {};

/**
 * A logger that drops everything. The default of every library.
 *
 * @example
 * ```ts
 * const logger = options.logger ?? noopLogger;
 * ```
 */
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => noopLogger };

/**
 * `logger.child(bindings)` when supported, otherwise the logger itself.
 *
 * @example
 * ```ts
 * const log = childLogger(logger, { requestId }); log.info({ agentId }, 'dispatched');
 * ```
 */
export function childLogger(logger: Logger, bindings: object): Logger {
  return logger.child ? logger.child(bindings) : logger;
}
