import { describe, expect, it } from 'vitest';
import { mayGrant, rolesBelow } from './roles.js';

describe('role ranks', () => {
  it('grants only roles at or below your own', () => {
    expect(mayGrant('owner', 'owner')).toBe(true);
    expect(mayGrant('admin', 'admin')).toBe(true);
    expect(mayGrant('admin', 'owner')).toBe(false);
    expect(mayGrant('member', 'admin')).toBe(false);
  });

  it('re-roles only holders strictly below you (never your peers or yourself)', () => {
    expect(rolesBelow('owner')).toEqual(['member', 'admin']);
    expect(rolesBelow('admin')).toEqual(['member']);
    expect(rolesBelow('member')).toEqual([]);
  });
});
