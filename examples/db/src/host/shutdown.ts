/**
 * Signal handling of the example hosts: drain once on SIGTERM/SIGINT, force only when asked again.
 *
 * close-with-grace alone exits 1 on any second signal ("second SIGTERM, exiting"). A host started
 * through a wrapper (pnpm, a shell script, `npm start`) and stopped with `kill -TERM -<pgid>` receives
 * the signal twice within milliseconds, once from the kernel (the whole group) and once forwarded by
 * the wrapper, so it never drained. Here a repeat within `duplicateWindowMs` of the first signal is
 * treated as the same request; a later one is an operator insisting and forces the exit.
 * close-with-grace still covers uncaught errors and the overall deadline.
 */
import closeWithGrace from 'close-with-grace';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Options of {@link handleShutdown}. */
export interface ShutdownOptions {
  /** Prefix of the stderr lines, e.g. `gateway`. */
  name: string;
  /** Drains and closes the host. Called once. */
  close: (reason: { signal?: NodeJS.Signals; err?: Error }) => Promise<void>;
  /** Exit 1 if `close` has not finished after this long. @default 15000 */
  delayMs?: number;
  /** A repeat of a signal within this window of the first is a duplicate delivery. @default 3000 */
  duplicateWindowMs?: number;
  /** Where the one-line messages go. @default process.stderr */
  write?: (line: string) => void;
}

/**
 * Installs the host's signal and fatal-error handlers. Returns `shutdown()`, the same drain started
 * by code (idempotent).
 *
 * @example
 * ```ts
 * handleShutdown({ name: 'gateway', close: () => host.close({ timeoutMs: 10_000 }) });
 * ```
 */
export function handleShutdown(options: ShutdownOptions): { shutdown(): void } {
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const window = options.duplicateWindowMs ?? 3000;
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  let reportedDuplicate = false;
  let started = false;

  const grace = closeWithGrace(
    {
      delay: options.delayMs ?? 15_000,
      // Signals are ours (below); close-with-grace keeps uncaught errors, beforeExit and the deadline.
      skip: [...SIGNALS],
      logger: { error: (m: unknown) => write(`${options.name}: ${m instanceof Error ? m.message : String(m)}`) },
    },
    async ({ err }) => {
      started = true;
      if (err) write(`${options.name}: fatal error, shutting down: ${err.message}`);
      else if (first) write(`${options.name}: ${first.signal}, draining`);
      await options.close({ ...(first ? { signal: first.signal } : {}), ...(err ? { err } : {}) });
    },
  );

  const onSignal = (signal: NodeJS.Signals) => {
    if (!first) {
      first = { signal, at: Date.now() };
      if (!started) void grace.close();
      else write(`${options.name}: ${signal}, already draining`);
      return;
    }
    if (first && Date.now() - first.at < window) {
      if (!reportedDuplicate) write(`${options.name}: ${signal} received again (process group and wrapper), still draining`);
      reportedDuplicate = true;
      return;
    }
    write(`${options.name}: second ${signal}, exiting without draining`);
    process.exit(1);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    shutdown() {
      if (!started) void grace.close();
    },
  };
}
