-- A tenant's retention as an admin set it over HTTP, over the configuration file's entry for the tenant:
-- {"days": N} or {"days": null} (kept until erased on demand); NULL: the file's retention applies. Read by every
-- gateway's retention pass from the settings it refreshes; each change is audited as tenant.settings.changed.
ALTER TABLE tenant_settings ADD COLUMN retention jsonb CHECK (jsonb_typeof(retention) = 'object');
