import type { Logger } from '@vespid/protocol';
import type Dockerode from 'dockerode';
import { dockerFailed } from './errors.js';
import { killContainer, removeContainer } from './engine.js';
import { CappedText, DockerDemuxer } from './output-capture.js';

/** What happened to one container. */
export interface RunOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  oomKilled: boolean;
  durationMs: number;
  /** Set when `signal` stopped the run (cancel or shutdown); holds `signal.reason`. */
  abortReason?: unknown;
}

/** Inputs of {@link runContainer}. */
export interface RunContainerInput {
  /** A created, never started container whose command is the launcher (see `launcher.ts`). */
  readonly container: Dockerode.Container;
  /** The preamble the launcher reads from stdin. Contains env values and the script: never logged. */
  readonly stdin: Buffer;
  /**
   * Removes the finished container. Default: awaited before the outcome is returned. A warm run hands
   * the removal to the pool, which runs it off the critical path (and waits for it on close).
   */
  readonly remove?: (container: Dockerode.Container, id: string) => Promise<void>;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly outputMaxChars: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

// After the exit is known, how long to keep draining output (and vice versa) before moving on.
const SETTLE_MS = 2_000;
const OOM_RECHECKS = 5;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Runs one container and always removes it (even when the run never starts). Attaches and registers
 * the wait *before* start so a fast script's output and exit are never missed. On timeout or abort:
 * SIGTERM, then SIGKILL after `killGraceMs`.
 */
export async function runContainer(input: RunContainerInput): Promise<RunOutcome> {
  const { container, stdin, signal, logger } = input;
  const id = container.id.slice(0, 12);
  const waitAbort = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let stream: NodeJS.ReadableStream | undefined;
  const onAbort = () => stop('abort');
  let stopping: 'timeout' | 'abort' | undefined;
  // SIGTERM now, SIGKILL after the grace period unless the container is removed first. Runs once.
  function stop(why: 'timeout' | 'abort'): void {
    if (stopping) return;
    stopping = why;
    logger.info({ containerId: id, reason: why }, 'stopping sandbox container');
    killContainer(container, 'SIGTERM').catch((err) => logger.warn({ containerId: id, err: String(err) }, 'SIGTERM failed'));
    timers.push(
      setTimeout(() => {
        killContainer(container, 'SIGKILL').catch((err) => logger.warn({ containerId: id, err: String(err) }, 'SIGKILL failed'));
      }, input.killGraceMs),
    );
  }

  try {
    const stdout = new CappedText(input.outputMaxChars);
    const stderr = new CappedText(input.outputMaxChars);
    const demux = new DockerDemuxer(stdout, stderr);
    try {
      // The launcher reads its task from stdin: hijack the connection so its write side can be
      // half-closed (without it, output written after the EOF is lost).
      stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadableStream;
    } catch (err) {
      throw dockerFailed('attach', err);
    }
    const drained = new Promise<void>((resolve) => {
      stream!.on('data', (chunk: Buffer) => demux.push(chunk));
      stream!.once('end', resolve);
      stream!.once('close', resolve);
      stream!.once('error', () => resolve());
    });
    // A failed wait request proves nothing about the exit: then the end of the output stream decides.
    const exited = container.wait({ condition: 'next-exit', abortSignal: waitAbort.signal }).then(
      () => undefined,
      () => new Promise<void>(() => {}),
    );
    // Cancelled while the container was being created or attached: never start it (finally removes it).
    if (signal.aborted) throw signal.reason;
    try {
      await container.start();
    } catch (err) {
      throw dockerFailed('start', err);
    }
    const startedAt = Date.now();
    // The launcher blocks on its stdin until the preamble and the EOF arrive.
    (stream as NodeJS.ReadWriteStream).end(stdin);
    timers.push(setTimeout(() => stop('timeout'), input.timeoutMs));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stop('abort');

    // Either signal may come first; give the other a bounded moment so output and exit both settle.
    await Promise.race([exited, drained]);
    await Promise.race([Promise.all([exited, drained]), delay(SETTLE_MS)]);
    let state = await finalState(container, Math.ceil((input.timeoutMs + input.killGraceMs) / 100) + 50);
    // A SIGKILL we did not send is most likely the OOM killer, but the engine can record the exit
    // before its OOM event: give the flag a short, bounded chance to land.
    for (let i = 0; i < OOM_RECHECKS && state.ExitCode === 137 && !state.OOMKilled && !stopping; i++) {
      await delay(100);
      state = await finalState(container, 0);
    }
    const durationMs = Date.now() - startedAt;
    return {
      exitCode: state.ExitCode,
      stdout: stdout.text(),
      stderr: stderr.text(),
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
      timedOut: stopping === 'timeout',
      oomKilled: state.OOMKilled,
      durationMs,
      ...(stopping === 'abort' ? { abortReason: signal.reason } : {}),
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
    for (const t of timers) clearTimeout(t);
    waitAbort.abort();
    (stream as { destroy?: () => void } | undefined)?.destroy?.();
    await (input.remove ?? removeContainer)(container, id).catch((err) =>
      logger.warn({ containerId: id, err: String(err) }, 'remove failed; the sweeper will retry'),
    );
  }
}

interface FinalState {
  ExitCode: number;
  OOMKilled: boolean;
}

// Reads the exit code and OOM flag; polls (boundedly) while the engine has not recorded the exit yet.
async function finalState(container: Dockerode.Container, maxPolls: number): Promise<FinalState> {
  for (let i = 0; ; i++) {
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (err) {
      throw dockerFailed('inspect', err);
    }
    if (!info.State.Running || i >= maxPolls) return { ExitCode: info.State.ExitCode, OOMKilled: info.State.OOMKilled };
    await delay(100);
  }
}
