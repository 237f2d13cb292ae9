import { describe, expect, it } from 'vitest';
import { CONNECT_COMMAND_PREFIX, connectCommand, shellWord } from './command.js';
import { describeApiError } from './errors.js';
import { countdown, listText, parseTagsInput, relativeTime } from './format.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('/agents page helpers', () => {
  it('shows the runbook connect command verbatim with the api base', () => {
    const token = '3f1e2d3c-4b5a-4678-9abc-def012345678.AbC-_x9';
    expect(connectCommand({ pairingToken: token, apiBase: 'http://localhost:3001/' })).toBe(
      `pnpm --filter @vespid/node-agent dev -- connect --pairing-token ${token} --api-base http://localhost:3001`,
    );
    expect(CONNECT_COMMAND_PREFIX).toBe('pnpm --filter @vespid/node-agent dev -- connect');
  });

  it('quotes only words a shell would split or expand', () => {
    expect(shellWord('https://api.example.com:8443/base')).toBe('https://api.example.com:8443/base');
    expect(shellWord('a b')).toBe("'a b'");
    expect(shellWord("it's $HOME")).toBe(`'it'\\''s $HOME'`);
  });

  it('formats relative times, including never and clock skew', () => {
    expect(relativeTime(null, T0)).toBe('never');
    expect(relativeTime('2026-01-01T00:00:10Z', T0)).toBe('just now');
    expect(relativeTime('2025-12-31T23:59:48Z', T0)).toBe('12 s ago');
    expect(relativeTime('2025-12-31T23:55:00Z', T0)).toBe('5 min ago');
    expect(relativeTime('2025-12-31T21:00:00Z', T0)).toBe('3 h ago');
    expect(relativeTime('2025-12-29T00:00:00Z', T0)).toBe('3 d ago');
    expect(relativeTime('garbage', T0)).toBe('unknown');
  });

  it('counts down to the pairing token expiry and reports expiry as null', () => {
    expect(countdown('2026-01-01T00:15:00Z', T0)).toBe('15:00');
    expect(countdown('2026-01-01T00:15:00Z', T0 + 1000)).toBe('14:59');
    expect(countdown('2026-01-01T00:00:09Z', T0)).toBe('0:09');
    expect(countdown('2026-01-01T00:00:00Z', T0)).toBeNull();
  });

  it('parses the tag editor text and renders lists', () => {
    expect(parseTagsInput(' east, group:alpha  east,,')).toEqual(['east', 'group:alpha']);
    expect(parseTagsInput('  ')).toEqual([]);
    expect(listText(['http', 'github'])).toBe('http, github');
    expect(listText([])).toBe('—');
    expect(listText(undefined)).toBe('—');
  });

  it('describes API failures in words, keeping the code and message for support', () => {
    const forbidden = describeApiError({ status: 403, code: 'FORBIDDEN', message: 'requires role owner or admin' });
    expect(forbidden).toMatch(/^Your role in this organization does not allow this/);
    expect(forbidden).toContain('(requires role owner or admin; FORBIDDEN)');
    expect(describeApiError({ status: 0 })).toMatch(/could not be reached/);
    // A catalogue code without page-specific words falls back to the catalogue's meaning.
    expect(describeApiError({ status: 503, code: 'NO_AGENT_AVAILABLE' })).toMatch(/^No connected agent of the organization/);
    expect(describeApiError({ status: 502 })).toBe('The API answered with HTTP 502.');
  });
});
