-- The metrics:read scope (GET /metrics): a monitoring credential that reads counts of every tenant, never content.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
  CHECK (scopes <@ ARRAY['infer', 'embed', 'tasks', 'audit:read', 'audit:export', 'metrics:read', 'admin']::text[]);
