import { CONTROL_CHANNEL, type ControlEvent, type Logger } from '@vespid/protocol';
import { describe, expect, it } from 'vitest';
import { type ControlTarget, applyControlEvent } from './control-channel.js';

function fakeTarget() {
  const calls: unknown[][] = [];
  const target: ControlTarget = {
    revokeAgent(agentId) {
      calls.push(['revoke', agentId]);
      return 1;
    },
    updateAgentTags(agentId, tags) {
      calls.push(['tags', agentId, tags]);
      return 1;
    },
    setAgentPaused(agentId, paused) {
      calls.push(['paused', agentId, paused]);
      return 1;
    },
    rotateAgentTokens(which) {
      calls.push(['rotate', which]);
      return { started: 1, unsupported: 0, busy: 0 };
    },
  };
  return { target, calls };
}

function captureLogger(lines: string[]): Logger {
  const push = (obj: object, msg?: string) => lines.push(JSON.stringify({ ...obj, msg }));
  return { debug: push, info: push, warn: push, error: push };
}

describe('applyControlEvent', () => {
  it('applies every event type of the protocol union', () => {
    const { target, calls } = fakeTarget();
    const events: ControlEvent[] = [
      { type: 'agent_revoked', agentId: 'a1' },
      { type: 'agent_tags_updated', agentId: 'a1', tags: ['gpu'] },
      { type: 'agent_paused', agentId: 'a1' },
      { type: 'agent_resumed', agentId: 'a1' },
      { type: 'agent_token_rotation_requested', agentId: 'a1' },
      { type: 'org_agent_tokens_rotation_requested', organizationId: 'o1' },
    ];
    const outcomes = events.map((e) => applyControlEvent(target, JSON.stringify(e), captureLogger([])));
    expect(outcomes).toEqual(['revoked', 'retagged', 'paused', 'resumed', 'rotating', 'rotating']);
    expect(calls).toEqual([
      ['revoke', 'a1'],
      ['tags', 'a1', ['gpu']],
      ['paused', 'a1', true],
      ['paused', 'a1', false],
      ['rotate', { agentId: 'a1' }],
      ['rotate', { organizationId: 'o1' }],
    ]);
    expect(CONTROL_CHANNEL).toBe('vespid:control');
  });

  it('applies an event a newer control plane extended with a field (rolling upgrade)', () => {
    const { target, calls } = fakeTarget();
    expect(
      applyControlEvent(target, JSON.stringify({ type: 'agent_paused', agentId: 'a1', reason: 'maintenance' }), captureLogger([])),
    ).toBe('paused');
    expect(calls).toEqual([['paused', 'a1', true]]);
  });

  it('ignores what is not a control event, logging the type and fields but never the values', () => {
    const { target, calls } = fakeTarget();
    const lines: string[] = [];
    const logger = captureLogger(lines);
    const SECRET = 'vsp_CANARY_control_5b2c';
    expect(applyControlEvent(target, 'not json', logger)).toBe('ignored');
    expect(applyControlEvent(target, JSON.stringify({ type: 'agent_exploded', agentId: 'a1' }), logger)).toBe('ignored');
    expect(applyControlEvent(target, JSON.stringify({ type: 'agent_revoked', agentId: '' }), logger)).toBe('ignored');
    expect(
      applyControlEvent(target, JSON.stringify({ type: 'agent_tags_updated', agentId: 'a1', tags: [SECRET.repeat(20)] }), logger),
    ).toBe('ignored');
    expect(calls).toEqual([]);
    expect(lines).toHaveLength(4);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(JSON.parse(lines[3]!)).toMatchObject({ type: 'agent_tags_updated', fields: 'tags.0' });
  });
});
