-- Retention and erasure of execution content (src/retention). An erased execution keeps its row — ids, caller,
-- model and digest, status, counts, timings, the schema reference, parameters without caller text — so receipts,
-- token budgets and bidding statistics keep their meaning; its input and output become NULL. The audit log never
-- held the content, only keyed hashes of it, so it verifies from index 0 as before.
ALTER TABLE executions
  ALTER COLUMN input DROP NOT NULL,
  -- When the content went, and the audit event (kind content.erased) that records it.
  ADD COLUMN content_erased_at timestamptz,
  ADD COLUMN content_erasure_event uuid,
  ADD CONSTRAINT executions_content_kept_or_erased
    CHECK ((input IS NOT NULL AND content_erased_at IS NULL) OR (input IS NULL AND output IS NULL AND content_erased_at IS NOT NULL AND content_erasure_event IS NOT NULL));

-- What retention and erasure look for: a tenant's executions that still hold content, oldest first. Erased rows
-- leave this index, so a pass never wades through what earlier passes erased.
CREATE INDEX executions_content_kept_idx ON executions (tenant, created_at) WHERE content_erased_at IS NULL;

-- A feedback comment about erased content is not kept (the score is: it is a number the learner uses). Locking the
-- execution row waits for an erasure that holds it and then reads what that erasure committed, so a comment sent
-- while its execution is being erased cannot slip in behind the erasure.
CREATE FUNCTION bidding_feedback_drop_erased_comment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  erased boolean;
BEGIN
  SELECT content_erased_at IS NOT NULL INTO erased FROM executions WHERE id = NEW.execution_id FOR SHARE;
  IF erased THEN
    NEW.comment := NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER bidding_feedback_erased_comment BEFORE INSERT ON bidding_feedback
  FOR EACH ROW WHEN (NEW.comment IS NOT NULL) EXECUTE FUNCTION bidding_feedback_drop_erased_comment();
