import { createHash } from 'node:crypto';
import { capturingLogger, executorConformance } from '@vespid/sdk-agent/testing';
import { describe, expect, it } from 'vitest';
import { hashExecutor } from './hash-executor.js';

// #region conformance
// The same suite every built-in executor passes: valid kind, garbage payloads fail (never throw),
// abort is honoured, the secret never reaches output or logs.
executorConformance({
  name: 'hashExecutor',
  create: () => hashExecutor({ roundsPerSlice: 1_000 }),
  setup: () => ({
    ok: { payload: { text: 'hello' } },
    // Runs for many seconds unless aborted: the suite checks it settles soon after the signal fires.
    slow: { payload: { text: 'hello', rounds: 100_000_000 } },
  }),
});
// #endregion conformance

const run = (payload: unknown, signal = new AbortController().signal) =>
  hashExecutor().execute(
    { requestId: 'r1', organizationId: 'org1', kind: 'example.hash', payload, timeoutMs: 5_000 },
    { signal, logger: capturingLogger(), deadline: Date.now() + 5_000 },
  );

describe('hashExecutor', () => {
  it('hashes the text the requested number of rounds', async () => {
    const once = createHash('sha256').update('abc').digest('hex');
    const twice = createHash('sha256').update(once).digest('hex');
    expect(await run({ text: 'abc' })).toEqual({ status: 'succeeded', output: { algorithm: 'sha256', rounds: 1, digest: once } });
    expect(await run({ text: 'abc', rounds: 2 })).toMatchObject({ status: 'succeeded', output: { digest: twice } });
    const sha512 = createHash('sha512').update('abc').digest('hex');
    expect(await run({ text: 'abc', algorithm: 'sha512' })).toMatchObject({ output: { digest: sha512 } });
  });

  it('names the invalid fields without echoing the payload', async () => {
    const result = await run({ text: 'do-not-echo', rounds: -1 });
    expect(result.status).toBe('failed');
    if (result.status !== 'failed') return;
    expect(result.error.code).toBe('BAD_REQUEST');
    expect(result.error.message).toContain('rounds');
    expect(result.error.message).not.toContain('do-not-echo');
  });

  it('fails with TASK_CANCELLED when aborted mid-run', async () => {
    const ac = new AbortController();
    const pending = run({ text: 'x', rounds: 100_000_000 }, ac.signal);
    setTimeout(() => ac.abort(new Error('cancel')), 50);
    expect(await pending).toMatchObject({ status: 'failed', error: { code: 'TASK_CANCELLED' } });
  });
});
