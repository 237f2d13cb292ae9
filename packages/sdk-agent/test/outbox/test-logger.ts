import type { Logger } from '@vespid/protocol';

/** Test-only: a logger that keeps each entry as `{ level, msg, ...fields }`. */
export function recordingLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, msg, ...obj });
    };
  const logger: Logger & { lines: Array<Record<string, unknown>> } = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}
