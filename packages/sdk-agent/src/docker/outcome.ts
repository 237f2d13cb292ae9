import { type ErrorCode, type ErrorInfo, VespidError, dockerExitCode } from '@vespid/protocol';
import type { ExecutorResult } from '../executor.js';
import type { RunOutcome } from './run-container.js';

/**
 * The `output` of every `agent.execute` result that reached a container (also on failure).
 *
 * @example
 * ```ts
 * const { stdout, exitCode, stdoutTruncated } = result.output as SandboxOutput;
 * ```
 */
export interface SandboxOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  oomKilled: boolean;
  durationMs: number;
}

/** The catalogue code for an abort reason: the runtime's own code if it has one, else TASK_CANCELLED. */
export function abortCode(reason: unknown): ErrorCode {
  if (VespidError.is(reason)) return reason.code;
  if ((reason as { name?: unknown } | null)?.name === 'TimeoutError') return 'NODE_EXECUTION_TIMEOUT';
  return 'TASK_CANCELLED';
}

function fail(code: ErrorCode, message: string, output: SandboxOutput): ExecutorResult {
  const err = new VespidError(code, message);
  const error: ErrorInfo = { code, message, retryable: err.retryable };
  return { status: 'failed', error, output };
}

/** Sizes of the writable space of a run, for the message of `DOCKER_WORKDIR_FULL`. */
export interface WritableSpace {
  /** Size of `/work` in MiB; 0 when it is the unbounded host directory. */
  readonly workdirMaxMb: number;
  readonly tmpSizeMb: number;
}

// strerror(ENOSPC) as libc, busybox, node ("ENOSPC: no space left on device") and python print it.
const ENOSPC = /no space left on device|\bENOSPC\b/i;

/**
 * Turns what happened to the container into a result. Precedence: cancellation, timeout, OOM (even
 * with exit code 0: a killed child is still an OOM), out of writable space (a non-zero exit whose
 * stderr reports ENOSPC), non-zero exit. Only the script can write that stderr, so a faked ENOSPC
 * only changes the code of its own failure.
 */
export function outcomeToResult(outcome: RunOutcome, timeoutMs: number, space?: WritableSpace): ExecutorResult {
  const aborted = 'abortReason' in outcome;
  const code = aborted ? abortCode(outcome.abortReason) : undefined;
  const output: SandboxOutput = {
    exitCode: outcome.exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    stdoutTruncated: outcome.stdoutTruncated,
    stderrTruncated: outcome.stderrTruncated,
    timedOut: outcome.timedOut || code === 'NODE_EXECUTION_TIMEOUT',
    oomKilled: outcome.oomKilled,
    durationMs: outcome.durationMs,
  };
  if (code !== undefined) return fail(code, `the sandbox run was stopped (${code})`, output);
  if (outcome.timedOut) return fail('NODE_EXECUTION_TIMEOUT', `the script did not finish within ${timeoutMs} ms`, output);
  if (outcome.oomKilled) return fail('DOCKER_OOM_KILLED', 'the sandbox hit its memory limit and a process was killed', output);
  if (outcome.exitCode !== 0 && ENOSPC.test(outcome.stderr)) {
    const work = space && space.workdirMaxMb > 0 ? `/work holds ${space.workdirMaxMb} MiB` : '/work is the host directory';
    const tmp = space ? `, /tmp ${space.tmpSizeMb} MiB` : '';
    return fail(
      'DOCKER_WORKDIR_FULL',
      `the script ran out of writable space (ENOSPC; ${work}${tmp}) and exited with code ${outcome.exitCode}`,
      output,
    );
  }
  if (outcome.exitCode !== 0) return fail(dockerExitCode(outcome.exitCode), `the script exited with code ${outcome.exitCode}`, output);
  return { status: 'succeeded', output };
}

/** A failed result for an error raised before or around the container (no output). */
export function errorToResult(err: unknown): ExecutorResult {
  if (VespidError.is(err)) {
    const details = (err as VespidError).details;
    return { status: 'failed', error: { code: err.code, message: err.message, retryable: err.retryable, ...(details ? { details } : {}) } };
  }
  return { status: 'failed', error: { code: 'INTERNAL_ERROR', message: 'unexpected docker sandbox error', retryable: true } };
}
