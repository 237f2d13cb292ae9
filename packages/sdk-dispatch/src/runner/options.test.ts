import { describe, expect, it } from 'vitest';
import { continuationJobId, requestIdFor } from '../request-id.js';
import { CONTINUATION_DEFAULTS, continuationOptionsFromEnv } from './options.js';

describe('continuationOptionsFromEnv', () => {
  it('uses the runbook defaults', () => {
    expect(continuationOptionsFromEnv({})).toEqual({
      nodeExecTimeoutMs: 60_000,
      queueName: 'workflow-continuations',
      pollMs: 2_000,
      concurrency: 10,
    });
    expect(CONTINUATION_DEFAULTS.pollMs).toBe(2000);
  });

  it('reads every worker variable', () => {
    expect(
      continuationOptionsFromEnv({
        NODE_EXEC_TIMEOUT_MS: '1500',
        WORKFLOW_CONTINUATION_QUEUE_NAME: 'wf-cont',
        WORKFLOW_CONTINUATION_POLL_MS: '60000',
        WORKFLOW_CONTINUATION_CONCURRENCY: '3',
      }),
    ).toEqual({ nodeExecTimeoutMs: 1500, queueName: 'wf-cont', pollMs: 60_000, concurrency: 3 });
  });

  it('rejects invalid values naming the variable', () => {
    expect(() => continuationOptionsFromEnv({ WORKFLOW_CONTINUATION_POLL_MS: 'soon' })).toThrow(/WORKFLOW_CONTINUATION_POLL_MS/);
    expect(() => continuationOptionsFromEnv({ WORKFLOW_CONTINUATION_CONCURRENCY: '0' })).toThrow(/WORKFLOW_CONTINUATION_CONCURRENCY/);
    expect(() => continuationOptionsFromEnv({ NODE_EXEC_TIMEOUT_MS: '-5' })).toThrow(/NODE_EXEC_TIMEOUT_MS/);
    expect(() => continuationOptionsFromEnv({ WORKFLOW_CONTINUATION_QUEUE_NAME: 'a:b' })).toThrow(/WORKFLOW_CONTINUATION_QUEUE_NAME/);
  });
});

describe('request ids', () => {
  it('are runId:nodeId:attempt and map to colon-free job ids without collisions', () => {
    expect(requestIdFor({ runId: 'r1', nodeId: 'n.1', attempt: 2 })).toBe('r1:n.1:2');
    expect(continuationJobId('r1:n.1:2')).toBe('cont~r1~n.1~2');
    expect(continuationJobId('r1:n:0')).not.toContain(':');
  });

  it('reject ids the protocol would refuse', () => {
    expect(() => requestIdFor({ runId: 'has space', nodeId: 'n', attempt: 0 })).toThrow(/request id/);
    expect(() => requestIdFor({ runId: 'r', nodeId: 'n', attempt: 1.5 })).toThrow(/attempt/);
  });
});
