// A plugin author's test, run from the packed tarballs with their own vitest: the conformance suites
// of the published `/testing` subpaths against a custom executor and the built-in strategies.
import { executorConformance } from '@vespid/sdk-agent/testing';
import { leastInFlightLru, roundRobin } from '@vespid/sdk-gateway';
import { selectionStrategyConformance } from '@vespid/sdk-gateway/testing';

const upper = {
  kind: 'pack.upper',
  async execute(task, { signal }) {
    const text = task.payload?.text;
    if (typeof text !== 'string') return { status: 'failed', error: { code: 'BAD_REQUEST', message: 'payload.text: string required' } };
    if (signal.aborted) return { status: 'failed', error: { code: 'TASK_CANCELLED', message: 'aborted' } };
    return { status: 'succeeded', output: { text: text.toUpperCase() } };
  },
};

executorConformance({ name: 'pack.upper (from the tarballs)', create: () => upper, setup: () => ({ ok: { payload: { text: 'hi' } } }) });
selectionStrategyConformance('roundRobin (from the tarballs)', () => roundRobin());
selectionStrategyConformance('leastInFlightLru (from the tarballs)', () => leastInFlightLru());
