import { describe, expect, it } from 'vitest';
import { bearerToken, generateToken, hashToken, parseToken, redactToken, tokensEqual, verifyTokenHash } from './tokens.js';

const org = '6f1c2a4e-8b9d-4c3e-a1f2-123456789abc';

describe('agent tokens', () => {
  it('generates <orgId>.<secret> tokens that parse back', () => {
    const t = generateToken(org);
    expect(t.startsWith(`${org}.`)).toBe(true);
    expect(parseToken(t)).toEqual({ organizationId: org, secret: t.slice(org.length + 1) });
    expect(generateToken(org)).not.toBe(t);
  });

  it('refuses org ids that would make an ambiguous token', () => {
    expect(() => generateToken('a.b')).toThrow();
  });

  it('returns null for malformed tokens', () => {
    for (const bad of [
      undefined,
      '',
      'nodot',
      '.secretsecretsecretsecret',
      `${org}.short`,
      `${org}.has space in it!!`,
      'x'.repeat(600),
      42,
    ]) {
      expect(parseToken(bad)).toBeNull();
    }
  });

  it('hashes deterministically and verifies in constant time', () => {
    const t = generateToken(org);
    const h = hashToken(t);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyTokenHash(t, h)).toBe(true);
    expect(verifyTokenHash(`${t}x`, h)).toBe(false);
    expect(verifyTokenHash(t, 'abc')).toBe(false);
  });

  it('compares strings of any length safely', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokensEqual('', '')).toBe(true);
  });

  it('extracts bearer tokens and redacts', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  abc')).toBe('abc');
    expect(bearerToken(['Bearer x'])).toBe('x');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    const t = generateToken(org);
    expect(redactToken(t)).toBe(`${org}.***`);
    expect(redactToken('garbage')).toBe('***');
  });
});
