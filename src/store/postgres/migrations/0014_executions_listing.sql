-- The operators' list of executions (GET /v1/admin/executions, the dashboard) pages newest first by (created_at, id):
-- every tenant's, or one tenant's, one model's, only the failures. An index in that order for each means a page
-- reads about its own rows however deep it is, rather than sorting every match. The two single-column indexes of
-- 0001 are prefixes of the new ones and go, so an insert maintains as many indexes as before, plus the partial one
-- that only failures enter. A tenant's list uses executions_tenant_created_at_idx (0006); successes are most rows
-- and need no index of their own.
DROP INDEX executions_created_at_idx;
CREATE INDEX executions_created_at_id_idx ON executions (created_at, id);
DROP INDEX executions_model_id_idx;
CREATE INDEX executions_model_created_at_idx ON executions (model_id, created_at, id);
CREATE INDEX executions_failed_created_at_idx ON executions (created_at, id) WHERE status = 'failed';
