import { describe, expect, it } from 'vitest';
import { resolveDockerSandboxOptions } from './options.js';
import { parseSandboxUser, resolveSandboxUser } from './sandbox-user.js';

describe('sandbox user (never root)', () => {
  it('refuses uid 0 or gid 0 in every spelling, and names', () => {
    const refused = [
      '0:0',
      '00:00',
      '000:0',
      '0:1000',
      '00:1000',
      '1000:0',
      '1000:00',
      '0',
      '00',
      '1000',
      'root',
      'root:root',
      '1000:root',
      '+0:+0',
      '+1000:+1000',
      ' 0:0',
      '0:0 ',
      '1000: 0',
      '-0:-0',
      '0x0:0x0',
      '1e3:1e3',
      '0.0:1000',
      '4294967296:4294967296', // would wrap to 0:0 as a 32-bit id
      '2147483648:1000',
      '',
      ':',
      '1000:',
    ];
    for (const u of refused) {
      expect(() => parseSandboxUser(u), JSON.stringify(u)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
      expect(() => resolveDockerSandboxOptions({ user: u }), JSON.stringify(u)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    }
    expect(() => resolveDockerSandboxOptions({ user: '00:00' })).toThrow(/never runs as root/);
    expect(() => resolveDockerSandboxOptions({ user: 'app:app' })).toThrow(/names are not accepted/);
  });

  it('accepts numeric non-root ids and normalises leading zeros', () => {
    expect(parseSandboxUser('1000:1000')).toEqual({ uid: 1000, gid: 1000 });
    expect(parseSandboxUser('01000:065534')).toEqual({ uid: 1000, gid: 65534 });
    expect(resolveSandboxUser('01000:02000', { uid: 0, gid: 0 })).toEqual({ user: { uid: 1000, gid: 2000 }, chown: true });
  });

  it('never defaults to the root user or group', () => {
    expect(resolveSandboxUser(undefined, { uid: 0, gid: 0 })).toEqual({ user: { uid: 65534, gid: 65534 }, chown: true });
    expect(resolveSandboxUser(undefined, { uid: 1001, gid: 0 })).toEqual({ user: { uid: 1001, gid: 65534 }, chown: false });
    expect(resolveSandboxUser(undefined, { uid: 1001, gid: 1002 })).toEqual({ user: { uid: 1001, gid: 1002 }, chown: false });
    expect(resolveSandboxUser(undefined, { uid: undefined, gid: undefined }).user).toEqual({ uid: 65534, gid: 65534 });
  });
});
