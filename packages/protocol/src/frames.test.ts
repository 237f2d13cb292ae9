import { describe, expect, it } from 'vitest';
import { CloseCode } from './close-codes.js';
import { encodeMessage, parseAgentMessage, parseGatewayMessage, parseJsonSafe } from './frames.js';

const valid = {
  hello: {
    type: 'hello',
    protocol: 1,
    agentVersion: '0.1.0',
    name: 'agent-a',
    capabilities: { kinds: ['connector.action', 'agent.execute'], connectors: ['http'], tags: ['east', 'group:alpha'], maxInFlight: 4 },
  },
  ping: { type: 'ping', ts: 1700000000000 },
  execute_received: { type: 'execute_received', requestId: 'run1:node1:0' },
  execute_result: { type: 'execute_result', requestId: 'run1:node1:0', status: 'succeeded', output: { a: 1 } },
  hello_ack: { type: 'hello_ack', sessionId: 's1', agentId: 'a1', organizationId: 'org-1', heartbeatMs: 15000 },
  pong: { type: 'pong', ts: 1 },
  execute: {
    type: 'execute',
    requestId: 'r:n:1',
    organizationId: 'org-1',
    kind: 'connector.action',
    payload: { connectorId: 'http' },
    secret: 's3cr3t',
    timeoutMs: 1000,
  },
  execute_ack: { type: 'execute_ack', requestId: 'r:n:1' },
  cancel: { type: 'cancel', requestId: 'r:n:1', reason: 'timeout' },
  drain: { type: 'drain', reason: 'shutdown' },
} as const;

const agentTypes = ['hello', 'ping', 'execute_received', 'execute_result'] as const;
const gatewayTypes = ['hello_ack', 'pong', 'execute', 'execute_ack', 'cancel', 'drain'] as const;

// One invalid variant per message type: a wrong type, a missing field or an out-of-range value.
const invalid: Record<string, unknown> = {
  hello: { ...valid.hello, protocol: 2 },
  ping: { type: 'ping', ts: 'now' },
  execute_received: { type: 'execute_received' },
  execute_result: { ...valid.execute_result, status: 'maybe' },
  hello_ack: { ...valid.hello_ack, heartbeatMs: -1 },
  pong: { type: 'pong' },
  execute: { ...valid.execute, timeoutMs: 0 },
  execute_ack: { type: 'execute_ack', requestId: 42 },
  cancel: { type: 'cancel', requestId: 'r', reason: 'x'.repeat(5000) },
  drain: { type: 'drain', reason: null },
};

describe('agent → gateway frames', () => {
  for (const t of agentTypes) {
    it(`accepts a valid ${t}`, () => {
      const r = parseAgentMessage(JSON.stringify(valid[t]));
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.message.type).toBe(t);
    });
    it(`rejects an invalid ${t} with 4400`, () => {
      const r = parseAgentMessage(JSON.stringify(invalid[t]));
      expect(r).toMatchObject({ ok: false, error: { closeCode: CloseCode.ProtocolViolation } });
    });
    it(`rejects ${t} with an extra key`, () => {
      const r = parseAgentMessage(JSON.stringify({ ...valid[t], extra: true }));
      expect(r.ok).toBe(false);
    });
  }

  it('rejects gateway-only frames from an agent', () => {
    expect(parseAgentMessage(JSON.stringify(valid.execute)).ok).toBe(false);
  });

  it('rejects hello with oversized name, too many tags, tags with spaces, or maxInFlight 0', () => {
    const h = valid.hello;
    for (const bad of [
      { ...h, name: 'n'.repeat(201) },
      { ...h, capabilities: { ...h.capabilities, tags: Array.from({ length: 65 }, (_, i) => `t${i}`) } },
      { ...h, capabilities: { ...h.capabilities, tags: ['has space'] } },
      { ...h, capabilities: { ...h.capabilities, maxInFlight: 0 } },
      { ...h, capabilities: { ...h.capabilities, kinds: [] } },
      { ...h, capabilities: { ...h.capabilities, kinds: ['UPPER'] } },
    ]) {
      expect(parseAgentMessage(JSON.stringify(bad)).ok).toBe(false);
    }
  });

  it('accepts a failed result carrying a parametric error code', () => {
    const r = parseAgentMessage(
      JSON.stringify({
        type: 'execute_result',
        requestId: 'r',
        status: 'failed',
        error: { code: 'DOCKER_EXIT_CODE:3', message: 'exit 3' },
      }),
    );
    expect(r.ok).toBe(true);
  });

  it('rejects a result with a malformed error code', () => {
    const r = parseAgentMessage(
      JSON.stringify({ type: 'execute_result', requestId: 'r', status: 'failed', error: { code: 'lower case', message: '' } }),
    );
    expect(r.ok).toBe(false);
  });
});

describe('gateway → agent frames', () => {
  for (const t of gatewayTypes) {
    it(`accepts a valid ${t}`, () => {
      const r = parseGatewayMessage(JSON.stringify(valid[t]));
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.message.type).toBe(t);
    });
    it(`rejects an invalid ${t}`, () => {
      expect(parseGatewayMessage(JSON.stringify(invalid[t])).ok).toBe(false);
    });
    it(`rejects ${t} with an extra key`, () => {
      expect(parseGatewayMessage(JSON.stringify({ ...valid[t], extra: 1 })).ok).toBe(false);
    });
  }

  it('rejects request ids with spaces, slashes or path escapes', () => {
    for (const requestId of ['a b', '../etc', 'a/b', '', 'x'.repeat(257)]) {
      expect(parseGatewayMessage(JSON.stringify({ type: 'execute_ack', requestId })).ok).toBe(false);
    }
  });

  it('rejects organization ids with dots (they would break <orgId>.<secret> tokens)', () => {
    expect(parseGatewayMessage(JSON.stringify({ ...valid.hello_ack, organizationId: 'a.b' })).ok).toBe(false);
  });
});

describe('frame hygiene', () => {
  it('rejects unknown types', () => {
    const r = parseAgentMessage('{"type":"rm -rf"}');
    expect(r).toMatchObject({ ok: false, error: { closeCode: 4400 } });
    if (!r.ok) expect(r.error.reason).toContain('rm -rf');
  });

  it('rejects invalid JSON and non-objects', () => {
    for (const raw of ['{', 'null', '42', '"str"', '[]', '']) expect(parseAgentMessage(raw).ok).toBe(false);
  });

  it('rejects binary ArrayBuffer that is not JSON, and non-buffer junk', () => {
    expect(parseAgentMessage(new Uint8Array([0xff, 0x00]).buffer).ok).toBe(false);
    expect(parseAgentMessage(123).ok).toBe(false);
  });

  it('accepts Buffer and Buffer[] input', () => {
    const s = JSON.stringify(valid.ping);
    expect(parseAgentMessage(Buffer.from(s)).ok).toBe(true);
    expect(parseAgentMessage([Buffer.from(s.slice(0, 5)), Buffer.from(s.slice(5))]).ok).toBe(true);
  });

  it('closes with 1009 on a frame above maxBytes', () => {
    const r = parseAgentMessage(JSON.stringify({ ...valid.execute_result, output: 'x'.repeat(2000) }), 1000);
    expect(r).toMatchObject({ ok: false, error: { closeCode: CloseCode.MessageTooBig } });
  });

  it('refuses __proto__ keys anywhere, including nested payloads', () => {
    const attacks = [
      '{"type":"ping","ts":1,"__proto__":{"polluted":true}}',
      '{"type":"execute_result","requestId":"r","status":"succeeded","output":{"a":{"__proto__":{"polluted":true}}}}',
    ];
    for (const raw of attacks) expect(parseAgentMessage(raw).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => parseJsonSafe('{"__proto__":1}')).toThrow(/__proto__/);
  });

  it('refuses __proto__ keys written with \\u escapes, and keeps the text "__proto__" as a value', () => {
    for (const raw of ['{"\\u005f_proto__":{"polluted":true}}', '{"a":[{"__pro\\u0074o__":1}]}', '{"\\u005F\\u005Fproto\\u005F\\u005F":1}'])
      expect(() => parseJsonSafe(raw), raw).toThrow(/__proto__/);
    expect(parseJsonSafe('{"note":"__proto__","b":"caf\\u00e9"}')).toEqual({ note: '__proto__', b: 'café' });
    expect(parseJsonSafe('{"a":{"b":[1,"x"]}}')).toEqual({ a: { b: [1, 'x'] } });
  });

  it('keeps "constructor" keys in payloads as plain data', () => {
    const r = parseAgentMessage(JSON.stringify({ ...valid.execute_result, output: { constructor: 'x' } }));
    expect(r.ok).toBe(true);
  });

  it('round-trips through encodeMessage', () => {
    const r = parseGatewayMessage(encodeMessage(valid.execute as never));
    expect(r.ok && r.message).toEqual(valid.execute);
  });
});

describe('token rotation frames', () => {
  it('parses rotate_token / rotate_token_ack, accepts hello features, and redactFrame hides the token', async () => {
    const { redactFrame } = await import('./messages.js');
    const r = parseGatewayMessage(JSON.stringify({ type: 'rotate_token', rotationId: 'r1', token: 'o.secret-token-value' }));
    expect(r.ok && r.message.type === 'rotate_token' && redactFrame(r.message)).toEqual({
      type: 'rotate_token',
      rotationId: 'r1',
      token: '[redacted]',
    });
    expect(parseAgentMessage(JSON.stringify({ type: 'rotate_token_ack', rotationId: 'r1' })).ok).toBe(true);
    const hello = { type: 'hello', protocol: 1, agentVersion: '1', name: 'a', capabilities: { kinds: ['k'], features: ['rotate_token'] } };
    expect(parseAgentMessage(JSON.stringify(hello)).ok).toBe(true);
    // An old agent's hello (no features) stays valid.
    expect(parseAgentMessage(JSON.stringify({ ...hello, capabilities: { kinds: ['k'] } })).ok).toBe(true);
  });
});
