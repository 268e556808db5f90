-- Model bidding: the learner's state, the decision behind every routed execution, the outcome of each executed
-- microtask, and explicit feedback. Execution ids are the gateway's (UUIDv7), but there is no foreign key to
-- executions: a decision is stored before its execution finishes, and a failed one may never be written there.

-- Every save appends the next version, so a restart resumes from the latest and a concurrent writer is detected
-- (its INSERT of the same version fails). Old versions are pruned by the store, a few are kept for inspection.
CREATE TABLE bidding_learner_state (
  learner text NOT NULL CHECK (learner ~ '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$'),
  version bigint NOT NULL CHECK (version >= 1),
  state json NOT NULL,
  frozen boolean NOT NULL,
  saved_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (learner, version)
);

CREATE TABLE bidding_decisions (
  execution_id uuid PRIMARY KEY,
  policy text NOT NULL,
  record json NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE INDEX bidding_decisions_created_at_idx ON bidding_decisions (created_at);

-- One row per executed microtask. reward is the automatic reward combined with the latest feedback;
-- learned_reward is what the learner holds for it (NULL: never learned), under learner_epoch.
CREATE TABLE bidding_outcomes (
  execution_id uuid NOT NULL,
  microtask_id text NOT NULL,
  model_id text NOT NULL,
  task_type text NOT NULL,
  context_key text NOT NULL,
  features json NOT NULL,
  prompt_tokens int NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens int NOT NULL CHECK (completion_tokens >= 0),
  queue_ms double precision NOT NULL,
  inference_ms double precision NOT NULL,
  expected_latency_ms double precision,
  error_code text,
  schema_valid boolean,
  automatic_reward double precision CHECK (automatic_reward BETWEEN 0 AND 1),
  reward double precision CHECK (reward BETWEEN 0 AND 1),
  learned_reward double precision CHECK (learned_reward BETWEEN 0 AND 1),
  learner_epoch int NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (execution_id, microtask_id)
);

CREATE INDEX bidding_outcomes_model_idx ON bidding_outcomes (model_id, created_at);

-- Explicit feedback (POST /v1/feedback): every score given is kept; the latest one counts.
CREATE TABLE bidding_feedback (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id uuid NOT NULL,
  score double precision NOT NULL CHECK (score BETWEEN 0 AND 1),
  tenant text,
  comment text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX bidding_feedback_execution_idx ON bidding_feedback (execution_id, id);
