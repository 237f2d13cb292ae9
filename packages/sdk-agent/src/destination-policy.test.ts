import { describe, expect, it } from 'vitest';
import { createDestinationPolicy, parseAllowlist } from './destination-policy.js';

// What a URL's host becomes once node's URL parser has canonicalised it (undici connects to that).
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

describe('destination policy', () => {
  const publicOnly = createDestinationPolicy({ allow: ['public'] });

  it('refuses loopback in every notation once the URL is parsed', () => {
    const urls = [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0x7f000001/',
      'http://017700000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://127.0.0.1./',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://[0:0:0:0:0:ffff:127.0.0.1]/',
    ];
    for (const url of urls) expect(publicOnly.check(hostOf(url)), url).toEqual({ allowed: false, range: 'loopback' });
  });

  it('refuses every special-purpose range and IPv6 forms that embed an IPv4 address', () => {
    const refused: Array<[string, string]> = [
      ['http://0/', 'unspecified'],
      ['http://[::]/', 'unspecified'],
      ['http://169.254.169.254/', 'linkLocal'],
      ['http://[fe80::1]/', 'linkLocal'],
      ['http://[fd00:ec2::254]/', 'uniqueLocal'],
      ['http://10.1.2.3/', 'private'],
      ['http://172.16.0.1/', 'private'],
      ['http://172.31.255.255/', 'private'],
      ['http://192.168.0.1/', 'private'],
      ['http://100.64.0.1/', 'carrierGradeNat'],
      ['http://224.0.0.1/', 'multicast'],
      ['http://[ff02::1]/', 'multicast'],
      ['http://255.255.255.255/', 'broadcast'],
      ['http://240.0.0.1/', 'reserved'],
      ['http://192.0.2.1/', 'reserved'],
      ['http://198.18.0.1/', 'reserved'],
      ['http://[64:ff9b::7f00:1]/', 'rfc6052'], // NAT64 of 127.0.0.1
      ['http://[2002:7f00:1::]/', '6to4'],
      ['http://[2001::1]/', 'teredo'],
      ['http://[::7f00:1]/', 'reserved'], // IPv4-compatible (deprecated)
      ['http://[2001:db8::1]/', 'reserved'],
    ];
    for (const [url, range] of refused) expect(publicOnly.check(hostOf(url)), url).toEqual({ allowed: false, range });
  });

  it('allows public unicast addresses', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(publicOnly.check(a), a).toEqual({ allowed: true, range: 'unicast' });
    }
  });

  it('opens exactly what the allowlist names', () => {
    const p = createDestinationPolicy({ allow: ['127.0.0.2', '10.20.0.0/16', '::ffff:192.168.7.0/120', 'svc.internal', '*.corp.test'] });
    expect(p.check('127.0.0.2').allowed).toBe(true);
    expect(p.check('::ffff:127.0.0.2').allowed).toBe(true);
    expect(p.check('127.0.0.1').allowed).toBe(false);
    expect(p.check('10.20.255.1').allowed).toBe(true);
    expect(p.check('10.21.0.1').allowed).toBe(false);
    expect(p.check('192.168.7.9').allowed).toBe(true);
    expect(p.check('192.168.8.9').allowed).toBe(false);
    expect(p.check('8.8.8.8').allowed).toBe(false); // no "public" entry: public is closed too
    expect(p.check('127.0.0.1', 'SVC.internal.').allowed).toBe(true);
    expect(p.check('127.0.0.1', 'a.b.corp.test').allowed).toBe(true);
    expect(p.check('127.0.0.1', 'corp.test').allowed).toBe(false);
    expect(p.check('127.0.0.1', 'evilcorp.test').allowed).toBe(false);
    expect(p.check('127.0.0.1', 'svc.internal.evil').allowed).toBe(false);
    expect(p.check('not-an-ip', 'svc.internal')).toEqual({ allowed: false, range: 'invalid' });
  });

  it('allows nothing with an empty list and rejects malformed entries naming them', () => {
    expect(createDestinationPolicy({ allow: [] }).check('8.8.8.8').allowed).toBe(false);
    expect(() => createDestinationPolicy({ allow: ['10.0.0.0/33'] })).toThrow(/10\.0\.0\.0\/33/);
    expect(() => createDestinationPolicy({ allow: ['http://x'] })).toThrow(/http:\/\/x/);
    expect(() => createDestinationPolicy({ allow: ['a b'] })).toThrow(expect.objectContaining({ code: 'AGENT_CONFIG_INVALID' }));
  });

  it('parses comma-separated variables', () => {
    expect(parseAllowlist(' 127.0.0.1/32, ,svc.internal ')).toEqual(['127.0.0.1/32', 'svc.internal']);
    expect(parseAllowlist(undefined)).toEqual([]);
  });
});
