import { VespidError } from '@vespid/protocol';
import { describe, expect, it } from 'vitest';
import { abortCode, errorToResult, outcomeToResult } from './outcome.js';
import type { RunOutcome } from './run-container.js';

const base: RunOutcome = {
  exitCode: 0,
  stdout: 'o',
  stderr: 'e',
  stdoutTruncated: false,
  stderrTruncated: false,
  timedOut: false,
  oomKilled: false,
  durationMs: 5,
};

describe('sandbox outcome → result', () => {
  it('succeeds on exit 0 with the documented output shape', () => {
    expect(outcomeToResult(base, 1000)).toEqual({
      status: 'succeeded',
      output: {
        exitCode: 0,
        stdout: 'o',
        stderr: 'e',
        stdoutTruncated: false,
        stderrTruncated: false,
        timedOut: false,
        oomKilled: false,
        durationMs: 5,
      },
    });
  });

  it('orders failures: cancel, then timeout, then OOM (even with exit 0), then the exit code', () => {
    const code = (o: Partial<RunOutcome>) => {
      const r = outcomeToResult({ ...base, ...o }, 1000);
      return r.status === 'failed' ? r.error.code : 'ok';
    };
    expect(code({ exitCode: 3 })).toBe('DOCKER_EXIT_CODE:3');
    expect(code({ oomKilled: true })).toBe('DOCKER_OOM_KILLED');
    expect(code({ oomKilled: true, exitCode: 137 })).toBe('DOCKER_OOM_KILLED');
    expect(code({ timedOut: true, oomKilled: true, exitCode: 143 })).toBe('NODE_EXECUTION_TIMEOUT');
    expect(code({ timedOut: true, abortReason: new Error('x') })).toBe('TASK_CANCELLED');
  });

  it('reports a script that ran out of writable space as DOCKER_WORKDIR_FULL (after OOM, before the exit code)', () => {
    const space = { workdirMaxMb: 8, tmpSizeMb: 64 };
    const busybox = { exitCode: 1, stderr: "dd: error writing '/work/big': No space left on device\n" };
    const r = outcomeToResult({ ...base, ...busybox }, 1000, space);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'DOCKER_WORKDIR_FULL', retryable: false }, output: { exitCode: 1 } });
    expect(r.status === 'failed' && r.error.message).toMatch(/\/work holds 8 MiB/);
    expect(outcomeToResult({ ...base, exitCode: 1, stderr: 'Error: ENOSPC: no space left on device, write' }, 1000)).toMatchObject({
      error: { code: 'DOCKER_WORKDIR_FULL' },
    });
    expect(outcomeToResult({ ...base, ...busybox, oomKilled: true }, 1000, space)).toMatchObject({ error: { code: 'DOCKER_OOM_KILLED' } });
    // A script that handled ENOSPC and exited 0 succeeded.
    expect(outcomeToResult({ ...base, stderr: busybox.stderr }, 1000, space).status).toBe('succeeded');
  });

  it('keeps the runtime code of an abort reason and marks runtime timeouts as timed out', () => {
    expect(abortCode(new VespidError('AGENT_SHUTDOWN', 'bye'))).toBe('AGENT_SHUTDOWN');
    expect(abortCode(new DOMException('t', 'TimeoutError'))).toBe('NODE_EXECUTION_TIMEOUT');
    expect(abortCode('whatever')).toBe('TASK_CANCELLED');
    const r = outcomeToResult({ ...base, exitCode: 143, abortReason: new VespidError('NODE_EXECUTION_TIMEOUT', 't') }, 1000);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT', retryable: false }, output: { timedOut: true } });
  });

  it('turns unknown errors into INTERNAL_ERROR without their message', () => {
    expect(errorToResult(new Error('internal detail /secret/path'))).toEqual({
      status: 'failed',
      error: { code: 'INTERNAL_ERROR', message: 'unexpected docker sandbox error', retryable: true },
    });
  });
});
