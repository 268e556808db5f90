-- The OpenTelemetry trace an execution ran in (tracing.enabled), so that a record leads to its spans in the site's
-- collector and back. A column, not a parameter: it is how the request was observed, not how it was generated, and
-- erasure never touches it. Null for executions made while tracing was off.
ALTER TABLE executions ADD COLUMN trace_id text CHECK (trace_id ~ '^[0-9a-f]{32}$');
-- Partial: an appliance that never traces pays nothing for it on each insert.
CREATE INDEX executions_trace_id_idx ON executions (trace_id) WHERE trace_id IS NOT NULL;
