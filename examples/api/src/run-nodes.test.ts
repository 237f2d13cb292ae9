import { describe, expect, it } from 'vitest';
import { foldRunNodes } from './run-nodes.js';
import { matchesFilter } from './routes/agent-filters.js';

const ev = (type: string, node_id: string, payload: Record<string, unknown> = {}) => ({ type, node_id, payload });

describe('run view nodes', () => {
  it('folds events onto the DSL nodes: status, last agent, attempts, durations and error', () => {
    const nodes = foldRunNodes(
      [
        { id: 'a', type: 'connector.action' },
        { id: 'b', type: 'agent.execute' },
        { id: 'c', type: 'agent.execute' },
      ],
      [
        ev('node_started', 'a', { attempt: 0 }),
        ev('node_dispatched', 'a', { requestId: 'r:a:0' }),
        ev('node_failed', 'a', {
          attempt: 0,
          agentId: 'x',
          agentName: 'box-1',
          totalMs: 9,
          error: { code: 'AGENT_DISCONNECTED', message: 'gone' },
        }),
        ev('node_started', 'a', { attempt: 1 }),
        ev('node_dispatched', 'a', { requestId: 'r:a:1' }),
        ev('node_succeeded', 'a', { requestId: 'r:a:1', agentId: 'y', agentName: 'box-2', queuedMs: 5, executingMs: 40, totalMs: 45 }),
        ev('node_started', 'b', { attempt: 0 }),
        ev('node_dispatched', 'b', { requestId: 'r:b:0' }),
        ev('node_queued', 'b', { position: 1 }),
        ev('node_started', 'zzz', { attempt: 0 }),
      ],
    );
    expect(nodes).toEqual([
      {
        id: 'a',
        type: 'connector.action',
        status: 'succeeded',
        attempts: 2,
        agent: { id: 'y', name: 'box-2' },
        durations: { queuedMs: 5, executingMs: 40, totalMs: 45 },
        error: null,
        requestId: 'r:a:1',
      },
      { id: 'b', type: 'agent.execute', status: 'queued', attempts: 1, agent: null, durations: null, error: null, requestId: 'r:b:0' },
      { id: 'c', type: 'agent.execute', status: 'pending', attempts: 0, agent: null, durations: null, error: null, requestId: null },
    ]);
  });
});

describe('agents list filters', () => {
  const agent = (over: Partial<Parameters<typeof matchesFilter>[0]> = {}) => ({
    id: '0b7c8a7e-1d2f-4c3b-9a8e-7f6d5c4b3a21',
    name: 'Build-Box',
    status: 'online',
    paused: false,
    tags: ['east', 'group:ci'],
    agentVersion: '1.4.2',
    host: { hostname: 'ci-runner-07' },
    ...over,
  });
  const f = (over: Record<string, string> = {}) => ({ includeRevoked: 'false' as const, ...over });

  it('hides revoked unless asked for or filtered on', () => {
    expect(matchesFilter(agent({ status: 'revoked' }), f())).toBe(false);
    expect(matchesFilter(agent({ status: 'revoked' }), { ...f(), includeRevoked: 'true' })).toBe(true);
    expect(matchesFilter(agent({ status: 'revoked' }), f({ status: 'revoked' }))).toBe(true);
  });

  it('filters by status (paused is a flag beside online/offline), tag and text', () => {
    expect(matchesFilter(agent(), f({ status: 'online' }))).toBe(true);
    expect(matchesFilter(agent(), f({ status: 'offline' }))).toBe(false);
    expect(matchesFilter(agent({ paused: true }), f({ status: 'paused' }))).toBe(true);
    expect(matchesFilter(agent(), f({ status: 'paused' }))).toBe(false);
    expect(matchesFilter(agent(), f({ tag: 'group:ci' }))).toBe(true);
    expect(matchesFilter(agent(), f({ tag: 'group' }))).toBe(false);
    for (const q of ['build', 'RUNNER-07', '1.4', '0b7c8a7e', 'east']) expect(matchesFilter(agent(), f({ q })), q).toBe(true);
    expect(matchesFilter(agent(), f({ q: 'west' }))).toBe(false);
  });
});
