-- In-band agent token rotation (issue 19). Every column holds a SHA-256 hash or a time, never a token.
-- token_expires_at: after it the current token is refused (401 AGENT_TOKEN_EXPIRED); a rotation request
--   sets it to now + AGENT_TOKEN_ROTATION_OVERLAP_MS, so an agent offline during the rotation can still
--   connect and be rotated within the overlap. NULL = the token does not expire.
-- token_rotation_requested_at: a rotation is due; the gateway rotates the agent on its next hello.
-- pending_token_hash: minted by the gateway and sent to the agent, not yet acknowledged. Connecting with
--   it proves the agent saved it, so that also activates it.
-- previous_token_hash / previous_valid_until: the token replaced by the last rotation, accepted until then.
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS token_expires_at timestamptz;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS token_rotation_requested_at timestamptz;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS pending_token_hash text;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS previous_token_hash text;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS previous_valid_until timestamptz;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS token_rotated_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS organization_agents_pending_token_idx ON organization_agents (pending_token_hash)
  WHERE pending_token_hash IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS organization_agents_previous_token_idx ON organization_agents (previous_token_hash)
  WHERE previous_token_hash IS NOT NULL;
