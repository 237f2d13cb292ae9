-- Admin approval and the audit log (issue 19).
--
-- Approval: an organization chooses how a newly paired agent starts. 'auto' (the default, the runbook's
-- flow) makes it eligible at once; 'manual' pairs it as 'pending': it connects, reports its host and
-- version, but gets no work until an owner or admin approves it. Rejecting revokes it. The tags asked
-- for at pairing are then only a proposal (proposed_tags); the control-plane tags stay the authority.
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS agent_approval text NOT NULL DEFAULT 'auto'
  CHECK (agent_approval IN ('auto', 'manual'));

-- Existing agents were paired under 'auto': they are approved.
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS approval_status text NOT NULL DEFAULT 'approved'
  CHECK (approval_status IN ('pending', 'approved', 'rejected'));
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS proposed_tags text[] NOT NULL DEFAULT '{}';
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS approval_decided_at timestamptz;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS approval_decided_by uuid REFERENCES users(id) ON DELETE SET NULL;

-- Security events of an organization, newest read first by id. No foreign key on the actor or the
-- agent: the record outlives a deleted user or agent. The type list lives in the api's audit module
-- (not a CHECK), so a new event type needs no migration. Never a token, secret value or hash here.
CREATE TABLE IF NOT EXISTS audit_events (
  id              bigserial PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  type            text NOT NULL,
  actor_type      text NOT NULL CHECK (actor_type IN ('user', 'agent', 'system')),
  actor_user_id   uuid,
  actor_email     text,
  agent_id        uuid,
  -- What else the event is about (a pairing token id, a secret id), as { "type", "id" }.
  subject         jsonb,
  details         jsonb NOT NULL DEFAULT '{}'::jsonb,
  client_address  text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_events_org_idx ON audit_events (organization_id, id DESC);
CREATE INDEX IF NOT EXISTS audit_events_agent_idx ON audit_events (organization_id, agent_id, id DESC) WHERE agent_id IS NOT NULL;
