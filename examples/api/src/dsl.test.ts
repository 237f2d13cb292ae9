import { describe, expect, it } from 'vitest';
import { WorkflowDslSchema } from './dsl.js';

const base = { version: 1, trigger: { type: 'trigger.manual' } };

describe('workflow DSL', () => {
  it('accepts both node kinds with every documented option', () => {
    const dsl = {
      ...base,
      nodes: [
        {
          id: 'gh',
          type: 'connector.action',
          config: {
            connectorId: 'github',
            actionId: 'issue.create',
            input: { repo: 'o/r', title: 't' },
            auth: { secretId: '6f1c2a52-7c1e-4a7e-9c0b-2f5d8d0c6a11' },
            timeoutMs: 120_000,
            execution: { mode: 'node', selector: { agentId: 'a1' } },
          },
        },
        {
          id: 'sh',
          type: 'agent.execute',
          config: {
            task: { type: 'shell', script: 'echo $X', shell: '/bin/sh', env: { X: '1' } },
            sandbox: { network: 'none', timeoutMs: 5000, docker: { image: 'node:24-alpine' }, envPassthroughAllowlist: ['OPENAI_API_KEY'] },
            execution: { mode: 'node', selector: { tag: 'east' } },
          },
        },
        {
          id: 'grp',
          type: 'agent.execute',
          config: { task: { type: 'shell', script: 'id' }, execution: { mode: 'node', selector: { group: 'alpha' } } },
        },
        {
          id: 'cloud',
          type: 'connector.action',
          config: { connectorId: 'http', actionId: 'request', input: {}, execution: { mode: 'cloud' } },
        },
      ],
    };
    const parsed = WorkflowDslSchema.parse(dsl);
    expect(parsed.nodes.map((n) => n.type)).toEqual(['connector.action', 'agent.execute', 'agent.execute', 'connector.action']);
  });

  it.each([
    ['unknown node type', { ...base, nodes: [{ id: 'a', type: 'llm.chat', config: {} }] }],
    ['no nodes', { ...base, nodes: [] }],
    [
      'wrong version',
      { ...base, version: 2, nodes: [{ id: 'a', type: 'agent.execute', config: { task: { type: 'shell', script: 'x' } } }] },
    ],
    ['unknown trigger', { version: 1, trigger: { type: 'trigger.webhook' }, nodes: [] }],
    [
      'two selectors',
      {
        ...base,
        nodes: [
          {
            id: 'a',
            type: 'agent.execute',
            config: { task: { type: 'shell', script: 'x' }, execution: { mode: 'node', selector: { tag: 'a', group: 'b' } } },
          },
        ],
      },
    ],
    ['colon in node id', { ...base, nodes: [{ id: 'a:b', type: 'agent.execute', config: { task: { type: 'shell', script: 'x' } } }] }],
    [
      'unknown config key',
      { ...base, nodes: [{ id: 'a', type: 'agent.execute', config: { task: { type: 'shell', script: 'x' }, extra: 1 } }] },
    ],
    [
      'secret id not a uuid',
      {
        ...base,
        nodes: [{ id: 'a', type: 'connector.action', config: { connectorId: 'http', actionId: 'r', input: {}, auth: { secretId: 'x' } } }],
      },
    ],
    [
      'connector.action without connectorId',
      { ...base, nodes: [{ id: 'a', type: 'connector.action', config: { actionId: 'request', input: {}, execution: { mode: 'node' } } }] },
    ],
    [
      'connector.action with a zero timeout',
      {
        ...base,
        nodes: [{ id: 'a', type: 'connector.action', config: { connectorId: 'http', actionId: 'request', input: {}, timeoutMs: 0 } }],
      },
    ],
  ])('rejects %s', (_name, dsl) => {
    expect(WorkflowDslSchema.safeParse(dsl).success).toBe(false);
  });
});
