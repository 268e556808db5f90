-- Daily token budgets are counted from the executions themselves: this index keeps that sum to the tenant's
-- rows of the current day.
CREATE INDEX executions_tenant_created_at_idx ON executions (tenant, created_at);
