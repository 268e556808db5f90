-- The site operator's scope (`operator`): what spans tenants or changes what every tenant is served, which a
-- tenant's `admin` no longer reaches. Existing admin keys keep their scopes; an operator key is issued anew.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
  CHECK (scopes <@ ARRAY['infer', 'embed', 'tasks', 'audit:read', 'audit:export', 'metrics:read', 'admin', 'operator']::text[]);
