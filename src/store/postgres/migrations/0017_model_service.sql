-- Whether an operator took a pinned model out of service (POST /v1/admin/models/:id/unload) or put it back (/load),
-- per model id, for every gateway and `atomic worker` on the database: each reads the table at start (a model
-- unloaded here is not even loaded) and again every models.serviceStateRefreshMs, and drains and unloads, or hosts
-- again, what another one changed. `sha256`: the pin the operator's change was made at (the choice holds for the id,
-- whatever it is pinned to later). Each change is audited as models.unloaded / models.loaded, in the same transaction.
CREATE TABLE model_service (
  model_id text PRIMARY KEY CHECK (model_id ~ '^[a-zA-Z0-9][a-zA-Z0-9._:-]{0,127}$'),
  unloaded boolean NOT NULL,
  sha256 text,
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL
);
