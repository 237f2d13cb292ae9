-- The node-agent version sent when pairing (`agentVersion` of POST /v1/agents/pair), shown in /agents.
ALTER TABLE organization_agents ADD COLUMN IF NOT EXISTS agent_version text;
