-- Access-token scope and invitations (the fix for "add member hands out a credential for an existing
-- account"). An access token now names the one organization it was minted for; adding a member
-- creates an invitation that the invitee redeems, instead of a token for whoever owns that email.

ALTER TABLE access_tokens ADD COLUMN organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE;

-- Tokens minted before scoping. A member token names its organization in its label (`member:<uuid>`);
-- it keeps exactly that organization and loses every other one the account belongs to.
UPDATE access_tokens t
   SET organization_id = substring(t.label FROM 8)::uuid
 WHERE t.label ~ '^member:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
   AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = t.user_id AND m.organization_id = substring(t.label FROM 8)::uuid);
-- Any other token whose account belongs to exactly one organization is scoped to it.
UPDATE access_tokens t
   SET organization_id = (SELECT m.organization_id FROM memberships m WHERE m.user_id = t.user_id)
 WHERE t.organization_id IS NULL
   AND (SELECT count(*) FROM memberships m WHERE m.user_id = t.user_id) = 1;
-- What is left cannot be scoped safely: revoke it (mint a new one with `bootstrap` or an invitation).
UPDATE access_tokens SET revoked_at = now() WHERE organization_id IS NULL AND revoked_at IS NULL;
-- From now on a live token always has a scope.
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_scoped CHECK (organization_id IS NOT NULL OR revoked_at IS NOT NULL);

CREATE TABLE invitations (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  email           text NOT NULL,
  role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  -- SHA-256 of the invitation token; the token is shown once to the inviter.
  token_hash      text NOT NULL UNIQUE,
  invited_by      uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  accepted_at     timestamptz,
  accepted_by     uuid REFERENCES users(id) ON DELETE SET NULL
);
-- At most one open invitation per organization and address (a new one replaces it).
CREATE UNIQUE INDEX invitations_open_idx ON invitations (organization_id, email) WHERE accepted_at IS NULL;
