-- What each agent says about itself in its hello: its version and the machine it runs on (display
-- only, never trusted for routing). `agent_version` is also written at pairing time by 0004; both
-- migrations add it with IF NOT EXISTS so either order works.
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS agent_version text;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS host_os text;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS host_arch text;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS host_name text;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS node_version text;
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS last_hello_at timestamptz;
