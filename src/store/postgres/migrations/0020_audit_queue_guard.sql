-- A queued event is the gateway's record that a request was answered: it waits unchanged until the sequencer logs
-- it, and leaves the queue only into the log. Before, only TRUNCATE was refused, and anyone holding the tables could
-- rewrite or drop an acknowledged event before it was signed (holding the sequencer's advisory lock kept it there).
-- A superuser can still disable triggers; the signed log cannot reveal what was never queued as written.
CREATE TRIGGER audit_queue_unchanged BEFORE UPDATE ON audit_queue
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

CREATE FUNCTION audit_queue_leaves_into_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_log WHERE event_id = OLD.event_id) THEN
    RAISE EXCEPTION 'DELETE on audit_queue is refused: the audit log is append-only, and event % leaves the queue only into it', OLD.event_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$$;
-- Checked at commit: the sequencer deletes a batch's rows before it inserts their leaves, in one transaction.
CREATE CONSTRAINT TRIGGER audit_queue_leaves_into_log AFTER DELETE ON audit_queue
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION audit_queue_leaves_into_log();
