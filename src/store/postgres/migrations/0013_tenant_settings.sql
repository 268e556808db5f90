-- A tenant's limits and bidding criteria as an admin set them over HTTP, over the configuration file's: `limits`
-- holds only the fields set (each replaces the file's), `bidding_criteria` replaces the file's criteria for the
-- tenant; null: the file's stand. Read by every gateway at start; each change is audited as tenant.settings.changed.
CREATE TABLE tenant_settings (
  tenant text PRIMARY KEY CHECK (tenant ~ '^[a-zA-Z0-9][a-zA-Z0-9._@:-]{0,127}$'),
  limits jsonb CHECK (jsonb_typeof(limits) = 'object'),
  bidding_criteria jsonb CHECK (jsonb_typeof(bidding_criteria) = 'object'),
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL
);
