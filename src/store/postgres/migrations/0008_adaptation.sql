-- Inference-time adaptation (src/adaptation). 0009 is the LoRA adapter half's, if it needs a table.

-- What the feedback integrator learned per tenant and task class (strategies, sampling presets, answer lengths), as
-- versioned JSON like bidding_learner_state: every save appends the next version, a restart resumes from the latest,
-- and a concurrent writer is detected by its INSERT of the same version failing.
CREATE TABLE adaptation_learner_state (
  learner text NOT NULL CHECK (learner ~ '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$'),
  version bigint NOT NULL CHECK (version >= 1),
  state json NOT NULL,
  frozen boolean NOT NULL,
  saved_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (learner, version)
);

-- Judged executions of a task class, the exemplar candidates. No content here: the text is the execution's own,
-- read through a join that skips erased executions, so erasure needs no step of its own for this table.
CREATE TABLE adaptation_rated_examples (
  execution_id uuid PRIMARY KEY,
  tenant text NOT NULL,
  task_class text NOT NULL,
  classification text NOT NULL,
  score double precision NOT NULL CHECK (score BETWEEN 0 AND 1),
  rated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX adaptation_rated_examples_class_idx ON adaptation_rated_examples (tenant, task_class, rated_at DESC);
