-- Policy reloads an operator made on one gateway (POST /v1/admin/policy/reload), in order: every other gateway of
-- the database reads its own policy folder again when a newer one appears (src/policy/reloads/follower.ts), so one
-- reload is in force site-wide. The hash is the set the gateway that was asked loaded: a follower whose folder
-- gives another hash says so.
CREATE TABLE policy_reloads (
  id bigserial PRIMARY KEY,
  requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  requested_by text NOT NULL,
  policy_set_hash text NOT NULL
);
