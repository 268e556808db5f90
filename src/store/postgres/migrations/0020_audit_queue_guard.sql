-- A queued event is the gateway's record that a request was answered: it waits unchanged until the sequencer logs
-- it, and leaves the queue only into the log. Before, only TRUNCATE was refused, and anyone holding the tables could
-- rewrite or drop an acknowledged event before it was signed (holding the sequencer's advisory lock kept it there).
-- A superuser can still disable triggers; the signed log cannot reveal what was never queued as written.
CREATE TRIGGER audit_queue_unchanged BEFORE UPDATE ON audit_queue
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

-- One check per DELETE statement, over the rows it removed: the sequencer logs a batch's leaves first, then takes
-- their rows off the queue in one statement, so a row-by-row (or deferred) check would cost it a lookup per event.
CREATE FUNCTION audit_queue_leaves_into_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unlogged uuid;
BEGIN
  SELECT gone.event_id INTO unlogged FROM gone WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE audit_log.event_id = gone.event_id) LIMIT 1;
  IF unlogged IS NOT NULL THEN
    RAISE EXCEPTION 'DELETE on audit_queue is refused: the audit log is append-only, and event % leaves the queue only into it', unlogged
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER audit_queue_leaves_into_log AFTER DELETE ON audit_queue
  REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_leaves_into_log();
