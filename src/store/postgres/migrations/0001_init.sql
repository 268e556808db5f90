-- One row per finished request: what went in, what came out, which model (by digest) produced it, and how long it took.
-- Documents are `json`, not `jsonb`: json keeps them byte for byte as given (key order included, which decides
-- the order a schema's properties are generated in) and accepts every string JSON can carry, \u0000 included.
CREATE TABLE executions (
  id uuid PRIMARY KEY,
  request_id text NOT NULL,
  endpoint text NOT NULL CHECK (endpoint IN ('chat.completions', 'completions', 'embeddings', 'tasks')),
  model_id text NOT NULL,
  model_digest text NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  error_code text,
  parameters json NOT NULL,
  input json NOT NULL,
  output json,
  schema_name text,
  schema_version int,
  prompt_tokens int NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens int NOT NULL CHECK (completion_tokens >= 0),
  queue_ms double precision NOT NULL,
  inference_ms double precision NOT NULL,
  total_ms double precision NOT NULL,
  created_at timestamptz NOT NULL,
  completed_at timestamptz NOT NULL,
  -- A schema reference is a name and a version, or nothing.
  CHECK ((schema_name IS NULL) = (schema_version IS NULL))
);

CREATE INDEX executions_created_at_idx ON executions (created_at);
CREATE INDEX executions_model_id_idx ON executions (model_id);

-- Registered JSON Schemas, immutable per (name, version); the digest recognises identical re-registrations.
CREATE TABLE schemas (
  name text NOT NULL CHECK (name ~ '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$'),
  version int NOT NULL CHECK (version >= 1),
  description text,
  schema json NOT NULL,
  digest text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);
