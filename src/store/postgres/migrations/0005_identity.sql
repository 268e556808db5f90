-- Service API keys for machine clients. Only the SHA-256 of each key is kept: a key carries 256 random bits, so
-- a fast hash is as strong as a slow one and verification stays in microseconds. A key is revoked, never deleted,
-- so that the audit log's references to it keep their meaning.
CREATE TABLE api_keys (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
  key_hash bytea NOT NULL CHECK (octet_length(key_hash) = 32),
  tenant text NOT NULL CHECK (tenant ~ '^[a-zA-Z0-9][a-zA-Z0-9._@:-]{0,127}$'),
  scopes text[] NOT NULL CHECK (scopes <@ ARRAY['infer', 'embed', 'tasks', 'audit:read', 'audit:export', 'admin']::text[]),
  description text CHECK (char_length(description) <= 500),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked_at timestamptz
);

-- Every execution and schema belongs to the tenant whose credentials made it; reads check it. Rows written
-- before identity existed belong to the tenant "default", the one the first-start admin key is issued for.
ALTER TABLE executions
  ADD COLUMN tenant text NOT NULL DEFAULT 'default',
  ADD COLUMN subject text NOT NULL DEFAULT 'unknown',
  ADD COLUMN token_id_hash text NOT NULL DEFAULT '',
  ADD COLUMN source_address text;
ALTER TABLE executions ALTER COLUMN tenant DROP DEFAULT, ALTER COLUMN subject DROP DEFAULT, ALTER COLUMN token_id_hash DROP DEFAULT;

ALTER TABLE schemas ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE schemas ALTER COLUMN tenant DROP DEFAULT;
ALTER TABLE schemas DROP CONSTRAINT schemas_pkey, ADD PRIMARY KEY (tenant, name, version);
