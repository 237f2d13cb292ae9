import type { Logger } from '@vespid/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type TokenRotator, staticAuthenticator } from '../authenticator.js';
import { type Gateway, createGateway } from '../gateway.js';
import { fakeAgent } from '../testing/index.js';

const ORG = 'org-r';
let gateway: Gateway;

/** A rotator that hands out numbered tokens and records activations. */
function recordingRotator() {
  let n = 0;
  const activated: Array<{ agentId: string; token: string }> = [];
  const rotator: TokenRotator = {
    async issue() {
      return { token: `${ORG}.rotated-token-secret-${++n}` };
    },
    async activate(agent, token) {
      activated.push({ agentId: agent.agentId, token });
    },
  };
  return { rotator, activated };
}

/** Every log line, serialized: the token must never be in it. */
function capturingLogger(lines: string[]): Logger {
  const log = (o: object, m?: string) => lines.push(JSON.stringify({ ...o, msg: m }));
  return { debug: log, info: log, warn: log, error: log };
}

afterEach(async () => {
  await gateway?.close({ timeoutMs: 100 });
});

describe('in-band token rotation (gateway side)', () => {
  it('sends rotate_token to an agent that announced the feature and activates the token on its ack; the token is never logged', async () => {
    const { rotator, activated } = recordingRotator();
    const lines: string[] = [];
    gateway = createGateway({
      authenticator: staticAuthenticator([]),
      serviceToken: 'svc',
      tokenRotator: rotator,
      logger: capturingLogger(lines),
    });
    const a = fakeAgent(gateway, { agentId: 'a', organizationId: ORG, tags: [] });
    a.hello({ features: ['rotate_token'] });

    expect(gateway.rotateAgentTokens({ agentId: 'a' })).toEqual({ started: 1, unsupported: 0, busy: 0 });
    await vi.waitFor(() => expect(a.frames('rotate_token')).toHaveLength(1));
    const frame = a.frames('rotate_token')[0]!;
    expect(frame.token).toBe(`${ORG}.rotated-token-secret-1`);
    expect(activated).toEqual([]);

    a.send({ type: 'rotate_token_ack', rotationId: frame.rotationId });
    await vi.waitFor(() => expect(activated).toEqual([{ agentId: 'a', token: frame.token }]));
    expect(lines.some((l) => l.includes('agent token rotated'))).toBe(true);
    expect(lines.join('\n')).not.toContain('rotated-token-secret');
  });

  it('an agent without the feature (older agent) is never sent the frame', async () => {
    const { rotator } = recordingRotator();
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', tokenRotator: rotator });
    const old = fakeAgent(gateway, { agentId: 'old', organizationId: ORG, tags: [], rotateToken: true });
    old.hello();
    expect(gateway.rotateAgentTokens({ organizationId: ORG })).toEqual({ started: 0, unsupported: 1, busy: 0 });
    old.send({ type: 'ping', ts: 1 });
    expect(old.frames('pong')).toHaveLength(1);
    expect(old.frames('rotate_token')).toEqual([]);
  });

  it('rotates right after hello when the authenticator says so, and does not activate on an error ack, a foreign ack or a disconnect', async () => {
    const { rotator, activated } = recordingRotator();
    gateway = createGateway({ authenticator: staticAuthenticator([]), serviceToken: 'svc', tokenRotator: rotator });
    const a = fakeAgent(gateway, { agentId: 'a', organizationId: ORG, tags: [], rotateToken: true });
    a.hello({ features: ['rotate_token'] });
    await vi.waitFor(() => expect(a.frames('rotate_token')).toHaveLength(1));
    expect(gateway.rotateAgentTokens({ agentId: 'a' })).toMatchObject({ busy: 1 });
    a.send({ type: 'rotate_token_ack', rotationId: 'not-this-one' });
    a.send({
      type: 'rotate_token_ack',
      rotationId: a.frames('rotate_token')[0]!.rotationId,
      error: { code: 'AGENT_CONFIG_INVALID', message: 'disk full' },
    });
    // The rotation is over (not busy any more) without an activation.
    await vi.waitFor(() => expect(gateway.rotateAgentTokens({ agentId: 'a' })).toMatchObject({ started: 1 }));
    expect(activated).toEqual([]);
    await vi.waitFor(() => expect(a.frames('rotate_token')).toHaveLength(2));
    a.disconnect();
    await new Promise((r) => setImmediate(r));
    expect(activated).toEqual([]);
  });
});
