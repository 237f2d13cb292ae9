-- Connector secrets (AES-256-GCM envelope) and workflows, runs and their events.

CREATE TABLE connector_secrets (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name            text NOT NULL,
  connector_id    text NOT NULL,
  -- Envelope: a random data key encrypts the value; the KEK (SECRETS_KEK_*) encrypts the data key.
  -- AAD binds both layers to organization and secret id, so a row copied elsewhere fails to decrypt.
  kek_id          text NOT NULL,
  dek_iv          bytea NOT NULL,
  dek_ciphertext  bytea NOT NULL,
  dek_tag         bytea NOT NULL,
  value_iv        bytea NOT NULL,
  value_ciphertext bytea NOT NULL,
  value_tag       bytea NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, name)
);

CREATE TABLE workflows (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name            text NOT NULL,
  dsl             jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflows_org_idx ON workflows (organization_id);

CREATE TABLE workflow_versions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_id     uuid NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  version         integer NOT NULL,
  dsl             jsonb NOT NULL,
  published_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workflow_id, version)
);

CREATE TABLE workflow_runs (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id     uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  workflow_id         uuid NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  version_id          uuid NOT NULL REFERENCES workflow_versions(id),
  status              text NOT NULL CHECK (status IN ('queued', 'running', 'blocked', 'succeeded', 'failed')),
  input               jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Index of the next node to run; node outputs so far, keyed by node id.
  cursor_node_index   integer NOT NULL DEFAULT 0,
  node_outputs        jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Blocked cursor: the remote request this run waits for.
  blocked_request_id  text,
  blocked_node_id     text,
  blocked_attempt     integer,
  blocked_timeout_at  timestamptz,
  attempt             integer NOT NULL DEFAULT 0,
  error               jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  finished_at         timestamptz
);
CREATE INDEX workflow_runs_org_idx ON workflow_runs (organization_id, created_at DESC);
CREATE INDEX workflow_runs_blocked_idx ON workflow_runs (blocked_timeout_at) WHERE status = 'blocked';

CREATE TABLE workflow_run_events (
  id              bigserial PRIMARY KEY,
  run_id          uuid NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  seq             integer NOT NULL,
  type            text NOT NULL,
  node_id         text,
  payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, seq)
);

-- Belt and braces for exactly-once: one terminal event per node attempt, enforced by the database.
CREATE UNIQUE INDEX workflow_run_events_terminal_once
  ON workflow_run_events (run_id, node_id, ((payload->>'attempt')))
  WHERE type IN ('node_succeeded', 'node_failed');
