import { ERROR_CODES, isRetryableCode } from '@vespid/protocol';
import { WorkflowNodeSchema } from '@vespid/example-api';
import { describe, expect, it } from 'vitest';
import { isRetryableFailure } from './retry-policy.js';

const http = (method?: string) =>
  WorkflowNodeSchema.parse({
    id: 'n',
    type: 'connector.action',
    config: { connectorId: 'http', actionId: 'request', input: { url: 'https://x.test', ...(method ? { method } : {}) } },
  });
const shell = WorkflowNodeSchema.parse({ id: 's', type: 'agent.execute', config: { task: { type: 'shell', script: 'true' } } });
const fail = (code: string, retryable?: boolean) => ({ code, message: 'x', ...(retryable === undefined ? {} : { retryable }) });

describe('worker retry policy', () => {
  it('retries requests that never ran or whose agent went away', () => {
    for (const code of ['NO_AGENT_AVAILABLE', 'AGENT_DISCONNECTED', 'GATEWAY_UNAVAILABLE', 'GATEWAY_SHUTDOWN', 'AGENT_SHUTDOWN']) {
      expect(isRetryableFailure(fail(code), shell), code).toBe(true);
    }
  });

  it('never retries a timeout: the action may have had its effect', () => {
    expect(isRetryableFailure(fail('NODE_EXECUTION_TIMEOUT'), http('GET'))).toBe(false);
    expect(isRetryableFailure(fail('NODE_EXECUTION_TIMEOUT', true), shell)).toBe(false);
  });

  it('retries HTTP_REQUEST_FAILED of an idempotent request unless the failure says it is final (4xx)', () => {
    expect(isRetryableFailure(fail('HTTP_REQUEST_FAILED'), http())).toBe(true);
    expect(isRetryableFailure(fail('HTTP_REQUEST_FAILED', true), http('PUT'))).toBe(true);
    expect(isRetryableFailure(fail('HTTP_REQUEST_FAILED', false), http('GET'))).toBe(false);
    // A POST/PATCH may have reached the server before the connection failed.
    expect(isRetryableFailure(fail('HTTP_REQUEST_FAILED', true), http('POST'))).toBe(false);
    expect(isRetryableFailure(fail('HTTP_REQUEST_FAILED'), http('patch'))).toBe(false);
  });

  it('fails other codes, and never retries what the catalogue calls final', () => {
    for (const code of ['BAD_REQUEST', 'CONNECTOR_NOT_FOUND', 'DOCKER_EXIT_CODE:1', 'SECRET_DECRYPT_FAILED', 'TASK_CANCELLED']) {
      expect(isRetryableFailure(fail(code), http()), code).toBe(false);
    }
    // The worker only retries codes the catalogue marks retryable, so the two never contradict each other.
    for (const { code } of ERROR_CODES) {
      if (isRetryableFailure(fail(code), http('GET'))) expect(isRetryableCode(code), code).toBe(true);
    }
  });
});
