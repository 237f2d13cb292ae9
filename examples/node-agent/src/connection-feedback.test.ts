import type { Agent, AgentEvents } from '@vespid/sdk-agent';
import { describe, expect, it } from 'vitest';
import { attachConnectionFeedback, connectionCause, permanentConnectionError, withoutConnectionLines } from './connection-feedback.js';
import type { CliError } from './exit-codes.js';

/** Just the event surface of an agent, driven by the test. */
function fakeAgent() {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const agent = {
    on(event: string, fn: (p: unknown) => void) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(fn);
      return () => listeners.get(event)!.delete(fn);
    },
  } as unknown as Agent;
  const emit = <K extends keyof AgentEvents>(event: K, payload: AgentEvents[K]) => {
    for (const fn of listeners.get(event) ?? []) fn(payload);
  };
  return { agent, emit };
}

function lines() {
  const out: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_o: object, msg?: string) => void out.push({ level, msg: msg ?? '' });
  return { out, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const URL = 'ws://gw.example:3002/ws';

describe('connection feedback', () => {
  it('says where it connects, then who it is once connected', () => {
    const { agent, emit } = fakeAgent();
    const l = lines();
    attachConnectionFeedback({
      agent,
      logger: l.logger,
      url: URL,
      name: 'edge-1',
      tags: ['east', 'group:alpha'],
      onPermanentError: () => {},
    });
    expect(l.out).toEqual([{ level: 'info', msg: `connecting to ${URL}` }]);
    emit('connected', { sessionId: 's', agentId: 'a-1', organizationId: 'o', heartbeatMs: 1 });
    expect(l.out.at(-1)).toEqual({ level: 'info', msg: 'connected as edge-1 (a-1), tags east, group:alpha' });
  });

  it('while the gateway is down: "cannot reach <url> (<cause>); retrying in Ns (attempt n)", repeats collapsed to attempts 1, 2, 4, 8', () => {
    const { agent, emit } = fakeAgent();
    const l = lines();
    attachConnectionFeedback({ agent, logger: l.logger, url: URL, name: 'edge-1', tags: [], onPermanentError: () => {} });
    for (let i = 0; i < 10; i++) {
      emit('disconnected', { code: 0, reason: 'connect ECONNREFUSED 10.0.0.1:3002', willReconnect: true, delayMs: 2400 });
    }
    const warns = l.out.filter((x) => x.level === 'warn').map((x) => x.msg);
    expect(warns).toEqual([
      `cannot reach ${URL} (ECONNREFUSED); retrying in 2.4s (attempt 1)`,
      `cannot reach ${URL} (ECONNREFUSED); retrying in 2.4s (attempt 2)`,
      `cannot reach ${URL} (ECONNREFUSED); retrying in 2.4s (attempt 4; 1 similar line hidden)`,
      `cannot reach ${URL} (ECONNREFUSED); retrying in 2.4s (attempt 8; 3 similar lines hidden)`,
    ]);
    // A new cause is said at once.
    emit('disconnected', { code: 0, reason: 'HTTP 502: bad gateway', willReconnect: true, delayMs: 15_000 });
    expect(l.out.at(-1)?.msg).toBe(`cannot reach ${URL} (HTTP 502); retrying in 15s (attempt 11)`);
    emit('connected', { sessionId: 's', agentId: 'a-1', organizationId: 'o', heartbeatMs: 1 });
    expect(l.out.at(-1)?.msg).toBe('connected as edge-1 (a-1), no tags after 12 attempts');
    emit('disconnected', { code: 1006, reason: '', willReconnect: true, delayMs: 500 });
    expect(l.out.at(-1)?.msg).toBe(`disconnected from ${URL} (close code 1006); reconnecting in 0.5s`);
    emit('connected', { sessionId: 's2', agentId: 'a-1', organizationId: 'o', heartbeatMs: 1 });
    expect(l.out.at(-1)?.msg).toBe('reconnected as edge-1 (a-1), no tags');
  });

  it('HTTP 404 on the WebSocket upgrade fails fast with a hint pointing at GATEWAY_WS_URL', () => {
    const { agent, emit } = fakeAgent();
    const l = lines();
    const errors: CliError[] = [];
    attachConnectionFeedback({ agent, logger: l.logger, url: URL, name: 'e', tags: [], onPermanentError: (e) => errors.push(e) });
    emit('disconnected', { code: 0, reason: 'HTTP 404: NOT_FOUND: not found', willReconnect: true, delayMs: 100 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(`the gateway at ${URL} answered HTTP 404 to the WebSocket upgrade`);
    expect(errors[0]!.hint).toMatch(/serves agents on \/ws.*GATEWAY_WS_URL/);
    expect(l.out.filter((x) => x.level === 'warn')).toEqual([]);
  });

  it('classifies causes and permanent errors', () => {
    expect(connectionCause('getaddrinfo ENOTFOUND gw.example', 0)).toBe('ENOTFOUND');
    expect(connectionCause('write EPROTO 1234:error:0A00010B:SSL routines::wrong version number', 0)).toBe('EPROTO');
    expect(connectionCause('Opening handshake has timed out', 0)).toBe('handshake timeout');
    expect(permanentConnectionError('wss://gw:3002/ws', 'write EPROTO …:wrong version number')?.hint).toMatch(/use ws:\/\/gw:3002\/ws/);
    expect(permanentConnectionError(URL, 'connect ECONNREFUSED')).toBeUndefined();
    expect(permanentConnectionError(URL, 'HTTP 503: draining')).toBeUndefined();
  });

  it('demotes only the runtime connection lines', () => {
    const l = lines();
    const quiet = withoutConnectionLines(l.logger);
    quiet.info({}, 'connected to gateway');
    quiet.warn({}, 'disconnected from gateway; reconnecting');
    quiet.warn({}, 'drain timeout reached; aborting in-flight tasks');
    expect(l.out.map((x) => x.level)).toEqual(['debug', 'debug', 'warn']);
  });
});
