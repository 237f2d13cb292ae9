/**
 * Adding a member is an invitation: the inviter never receives a credential for an existing account,
 * an invitation for an existing account is redeemed only with that account's own access token, and
 * no one changes the role of someone at or above their own rank. The first test is the attack of
 * issue 24 as it was run: an admin of org A adds the email of org B's owner.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../test/services.js';
import { type TestApi, startTestApi } from '../test/testing.js';
import { addMember, bootstrapOrganization } from './users.js';

const email = (tag: string) => `${tag}-${randomUUID()}@example.test`;

await describeWith(['postgres', 'redis'], 'api invitations and the rank rule', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  const invite = (orgId: string, token: string, body: { email: string; role: string }) =>
    api.call('POST', `/v1/orgs/${orgId}/members`, { token, body });
  const accept = (invitationToken: string, token?: string) =>
    api.call('POST', '/v1/invitations/accept', { body: { invitationToken }, ...(token ? { token } : {}) });
  const roleOf = async (orgId: string, userId: string) =>
    (await api.pool.query('SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2', [orgId, userId])).rows[0]?.role;
  const tokensOf = async (userId: string) =>
    (await api.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access_tokens WHERE user_id = $1', [userId])).rows[0]!.n;

  it("an admin of A who adds the email of B's owner gets no credential for that account and no way into B", async () => {
    const victimEmail = email('victim');
    const victim = await bootstrapOrganization(api.pool, { orgName: 'Victim B', email: victimEmail });
    const a = await api.org('Attacker A');
    const attacker = await addMember(api.pool, { organizationId: a.orgId, email: email('attacker'), role: 'admin' });

    // The attack exactly as reported: 201 with an accessToken for the victim's account before the fix.
    const added = await invite(a.orgId, attacker.accessToken, { email: victimEmail, role: 'member' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ status: 'invited', email: victimEmail, role: 'member', organizationId: a.orgId });
    expect(added.body.accessToken).toBeUndefined();
    expect(added.text).not.toMatch(/vat_/);
    expect(await tokensOf(victim.userId)).toBe(1);
    expect(await roleOf(a.orgId, victim.userId)).toBeUndefined();

    // Redeeming it needs the victim's own credential: anonymous → 401, the attacker's token → 403.
    const anonymous = await accept(added.body.invitationToken);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UNAUTHORIZED');
    const asAttacker = await accept(added.body.invitationToken, attacker.accessToken);
    expect(asAttacker.status).toBe(403);
    expect(asAttacker.body.code).toBe('FORBIDDEN');
    expect(`${anonymous.text}${asAttacker.text}`).not.toMatch(/vat_/);
    expect(await tokensOf(victim.userId)).toBe(1);

    // What the attacker did with the stolen token: read B's secrets, pair an agent in B.
    expect((await api.call('GET', `/v1/orgs/${victim.orgId}/secrets`, { token: attacker.accessToken })).status).toBe(403);
    expect((await api.call('POST', `/v1/orgs/${victim.orgId}/agents/pairing-tokens`, { token: attacker.accessToken })).status).toBe(403);

    // The victim accepts with their own token (minted in B) and gets a token for A only.
    const joined = await accept(added.body.invitationToken, victim.accessToken);
    expect(joined.status).toBe(201);
    expect(joined.body).toMatchObject({ organizationId: a.orgId, userId: victim.userId, role: 'member' });
    const me = await api.call('GET', '/v1/me', { token: joined.body.accessToken });
    expect(me.body).toMatchObject({ userId: victim.userId, scope: { organizationId: a.orgId } });
    expect(me.body.memberships).toEqual([{ organizationId: a.orgId, name: 'Attacker A', role: 'member' }]);
    expect((await api.call('GET', `/v1/orgs/${victim.orgId}/secrets`, { token: joined.body.accessToken })).status).toBe(403);
    expect((await api.call('GET', `/v1/orgs/${a.orgId}/secrets`, { token: joined.body.accessToken })).status).toBe(200);
    expect((await api.call('GET', `/v1/orgs/${victim.orgId}/secrets`, { token: victim.accessToken })).status).toBe(200);
    expect(await roleOf(victim.orgId, victim.userId)).toBe('owner');

    // Single use.
    const again = await accept(added.body.invitationToken, victim.accessToken);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('NOT_FOUND');
  });

  it('an admin cannot demote or take over the owner or another admin; adding an existing member changes nothing', async () => {
    const owner = await api.org('Ranks');
    const admin = await addMember(api.pool, { organizationId: owner.orgId, email: email('admin'), role: 'admin' });
    const admin2 = await addMember(api.pool, { organizationId: owner.orgId, email: email('admin2'), role: 'admin' });
    const member = await addMember(api.pool, { organizationId: owner.orgId, email: email('member'), role: 'member' });
    const ownerEmail = (await api.pool.query('SELECT email FROM users WHERE id = $1', [owner.userId])).rows[0].email;

    // The reported demotion: the admin posts the owner's email with role member.
    const demote = await invite(owner.orgId, admin.accessToken, { email: ownerEmail, role: 'member' });
    expect(demote.status).toBe(409);
    expect(demote.body.code).toBe('CONFLICT');
    expect(demote.text).not.toMatch(/vat_|vinv_/);
    expect(await roleOf(owner.orgId, owner.userId)).toBe('owner');
    expect(await tokensOf(owner.userId)).toBe(1);

    const patch = (token: string, userId: string, role: string) =>
      api.call('PATCH', `/v1/orgs/${owner.orgId}/members/${userId}`, { token, body: { role } });
    const refused = [
      await patch(admin.accessToken, owner.userId, 'member'),
      await patch(admin.accessToken, admin2.userId, 'member'),
      await patch(admin.accessToken, admin.userId, 'owner'),
      await patch(admin.accessToken, member.userId, 'owner'),
      await patch(member.accessToken, member.userId, 'admin'),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect(await roleOf(owner.orgId, owner.userId)).toBe('owner');
    expect(await roleOf(owner.orgId, admin2.userId)).toBe('admin');
    expect(await roleOf(owner.orgId, member.userId)).toBe('member');

    // Within the rule: an admin promotes a member to admin; the owner demotes an admin.
    expect((await patch(admin.accessToken, member.userId, 'admin')).body).toEqual({ userId: member.userId, role: 'admin' });
    expect((await patch(owner.accessToken, admin2.userId, 'member')).body).toEqual({ userId: admin2.userId, role: 'member' });
    expect((await patch(owner.accessToken, randomUUID(), 'member')).status).toBe(404);

    // Invitations follow the same rule: no owner invitation from an admin, nor replacing one.
    expect((await invite(owner.orgId, admin.accessToken, { email: email('o'), role: 'owner' })).status).toBe(403);
    const futureOwner = email('future-owner');
    expect((await invite(owner.orgId, owner.accessToken, { email: futureOwner, role: 'owner' })).status).toBe(201);
    const replace = await invite(owner.orgId, admin.accessToken, { email: futureOwner, role: 'member' });
    expect(replace.status).toBe(403);
    expect((await api.pool.query('SELECT role FROM invitations WHERE email = $1', [futureOwner])).rows).toEqual([{ role: 'owner' }]);
  });

  it('an invitation for a new address creates the account with a token for that organization only', async () => {
    const org = await api.org('Fresh');
    const other = await api.org('Other');
    const newcomer = email('new');
    const first = await invite(org.orgId, org.accessToken, { email: newcomer, role: 'member' });
    const second = await invite(org.orgId, org.accessToken, { email: newcomer.toUpperCase(), role: 'admin' });
    expect(second.status).toBe(201);
    // Re-inviting replaced the first invitation.
    expect((await accept(first.body.invitationToken)).status).toBe(404);
    // A token of some other account cannot take it either.
    expect((await accept(second.body.invitationToken, other.accessToken)).status).toBe(403);
    const joined = await accept(second.body.invitationToken);
    expect(joined.status).toBe(201);
    expect(joined.body).toMatchObject({ organizationId: org.orgId, role: 'admin', accessToken: expect.stringMatching(/^vat_/) });
    const me = await api.call('GET', '/v1/me', { token: joined.body.accessToken });
    expect(me.body).toMatchObject({ email: newcomer, memberships: [{ organizationId: org.orgId, role: 'admin' }] });
    // Now an existing member: a new invitation is a conflict, the role stays.
    expect((await invite(org.orgId, org.accessToken, { email: newcomer, role: 'member' })).status).toBe(409);
    expect(await roleOf(org.orgId, joined.body.userId)).toBe('admin');
  });

  it('addMember (operator helper) refuses an existing account and leaves nothing behind', async () => {
    const victimEmail = email('existing');
    const victim = await bootstrapOrganization(api.pool, { orgName: 'Existing', email: victimEmail });
    const org = await api.org('Helper');
    await expect(addMember(api.pool, { organizationId: org.orgId, email: victimEmail, role: 'member' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(addMember(api.pool, { organizationId: victim.orgId, email: victimEmail, role: 'member' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await tokensOf(victim.userId)).toBe(1);
    expect(await roleOf(victim.orgId, victim.userId)).toBe('owner');
    expect((await api.pool.query('SELECT count(*)::int AS n FROM invitations WHERE email = $1', [victimEmail])).rows[0].n).toBe(0);
  });

  it('expired, unknown and raced invitations: at most one redemption, never a 5xx', async () => {
    const org = await api.org('Race');
    const expired = await invite(org.orgId, org.accessToken, { email: email('late'), role: 'member' });
    await api.pool.query("UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.body.invitationId]);
    expect((await accept(expired.body.invitationToken)).status).toBe(404);
    expect((await accept('vinv_unknown')).status).toBe(404);
    expect((await accept('x', 'vat_not-a-token')).status).toBe(401);

    const raced = await invite(org.orgId, org.accessToken, { email: email('race'), role: 'member' });
    const results = await Promise.all(Array.from({ length: 10 }, () => accept(raced.body.invitationToken)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 404 || s === 409)).toBe(true);
  });

  it('no invitation or access token reaches a log line', () => {
    const all = api.logs.join('\n');
    expect(api.logs.some((l) => l.includes('member invited'))).toBe(true);
    expect(api.logs.some((l) => l.includes('invitation accepted'))).toBe(true);
    expect(all).not.toMatch(/vinv_|vat_/);
  });
});
