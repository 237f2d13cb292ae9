-- Fleet view (issue 17).
-- Pause (cordon): a paused agent stays connected and finishes what it runs but is given no new work.
-- The columns hold the current state; agent_events keeps who paused or resumed and when, independent
-- of any run (an audit table may absorb it later).
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS paused_at timestamptz;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS paused_by uuid REFERENCES users(id) ON DELETE SET NULL;

CREATE TABLE IF NOT EXISTS agent_events (
  id              bigserial PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  agent_id        uuid NOT NULL REFERENCES organization_agents(id) ON DELETE CASCADE,
  type            text NOT NULL CHECK (type IN ('agent_paused', 'agent_resumed')),
  actor_user_id   uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS agent_events_agent_idx ON agent_events (agent_id, id DESC);

-- An agent's job history: the node attempts whose terminal event names the agent, newest first.
CREATE INDEX IF NOT EXISTS workflow_run_events_agent_idx
  ON workflow_run_events (organization_id, (payload->>'agentId'), id DESC)
  WHERE type IN ('node_succeeded', 'node_failed');
