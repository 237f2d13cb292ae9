import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS } from './constants.js';
import {
  DispatchAsyncResponseSchema,
  DispatchRequestSchema,
  ErrorBodySchema,
  ExecutionResultSchema,
  StoredResultSchema,
} from './dispatch.js';
import { AgentExecutePayloadSchema, ConnectorActionPayloadSchema, ExecutionConfigSchema } from './payloads.js';

const base = { organizationId: 'org-1', requestId: 'run:node:0', kind: 'connector.action', payload: { connectorId: 'http' } };

describe('dispatch request', () => {
  it('applies the default timeout', () => {
    expect(DispatchRequestSchema.parse(base).timeoutMs).toBe(DEFAULT_TIMEOUT_MS);
  });

  it('accepts each selector form and rejects combined ones', () => {
    for (const selector of [{ agentId: 'a1' }, { tag: 'east' }, { group: 'alpha' }, {}]) {
      expect(DispatchRequestSchema.safeParse({ ...base, selector }).success).toBe(true);
    }
    expect(DispatchRequestSchema.safeParse({ ...base, selector: { agentId: 'a', tag: 'b' } }).success).toBe(false);
    expect(DispatchRequestSchema.safeParse({ ...base, selector: { region: 'x' } }).success).toBe(false);
  });

  it('rejects missing fields, wrong types, extra keys and huge timeouts', () => {
    for (const bad of [
      { ...base, organizationId: undefined },
      { ...base, kind: 5 },
      { ...base, extra: 1 },
      { ...base, timeoutMs: 1e12 },
      { ...base, timeoutMs: 1.5 },
      { ...base, secret: 'x'.repeat(70_000) },
    ]) {
      expect(DispatchRequestSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('refuses a connector.action without a valid payload.connectorId (the gateway routes by it)', () => {
    for (const payload of [{}, { actionId: 'request', input: {} }, { connectorId: '' }, { connectorId: 'Not Valid' }, null, 'x']) {
      const r = DispatchRequestSchema.safeParse({ ...base, payload });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(['payload', 'connectorId']);
    }
    // Other kinds carry no connector.
    expect(DispatchRequestSchema.safeParse({ ...base, kind: 'agent.execute', payload: {} }).success).toBe(true);
  });
});

describe('results and bodies', () => {
  it('validates execution and stored results', () => {
    expect(ExecutionResultSchema.safeParse({ status: 'succeeded', output: 1 }).success).toBe(true);
    expect(ExecutionResultSchema.safeParse({ status: 'done' }).success).toBe(false);
    expect(
      StoredResultSchema.safeParse({
        requestId: 'r',
        organizationId: 'o',
        status: 'failed',
        error: { code: 'X', message: 'm' },
        completedAt: 1,
      }).success,
    ).toBe(true);
    expect(StoredResultSchema.safeParse({ requestId: 'r', status: 'failed', completedAt: 1 }).success).toBe(false);
  });

  it('validates async responses and error bodies', () => {
    expect(DispatchAsyncResponseSchema.safeParse({ requestId: 'r', dispatched: true }).success).toBe(true);
    expect(DispatchAsyncResponseSchema.safeParse({ requestId: 'r', dispatched: false, cached: true }).success).toBe(true);
    expect(DispatchAsyncResponseSchema.safeParse({ requestId: 'r' }).success).toBe(false);
    expect(ErrorBodySchema.safeParse({ code: 'NO_AGENT_AVAILABLE', message: 'none' }).success).toBe(true);
    expect(ErrorBodySchema.safeParse({ message: 'none' }).success).toBe(false);
  });
});

describe('node payloads', () => {
  it('parses connector.action and agent.execute payloads', () => {
    expect(ConnectorActionPayloadSchema.safeParse({ connectorId: 'http', actionId: 'request', input: {} }).success).toBe(true);
    expect(ConnectorActionPayloadSchema.safeParse({ connectorId: 'HTTP', actionId: 'request' }).success).toBe(false);
    expect(
      AgentExecutePayloadSchema.safeParse({
        task: { type: 'shell', script: 'echo hi', env: { A: '1' } },
        sandbox: { network: 'none', timeoutMs: 1000, docker: { image: 'x' }, envPassthroughAllowlist: ['OPENAI_API_KEY'] },
      }).success,
    ).toBe(true);
    expect(AgentExecutePayloadSchema.safeParse({ task: { type: 'python', script: 'x' } }).success).toBe(false);
    expect(AgentExecutePayloadSchema.safeParse({ task: { type: 'shell', script: 'x', env: { 'BAD-KEY': '1' } } }).success).toBe(false);
  });

  it('defaults execution mode to cloud', () => {
    expect(ExecutionConfigSchema.parse({})).toEqual({ mode: 'cloud' });
    expect(ExecutionConfigSchema.parse({ mode: 'node', selector: { group: 'alpha' } })).toEqual({
      mode: 'node',
      selector: { group: 'alpha' },
    });
  });
});
