-- The tamper-evident audit log. Writers insert events into audit_queue inside their own transaction (so an
-- acknowledged request always has its event); one elected sequencer moves them, in batches, into audit_log, where
-- each gets the next index, a hash chain link and a leaf in the Merkle tree, and signs a checkpoint per batch.

-- Events are kept as canonical JSON text, checked at enqueue time, so that the sequencer never meets one it cannot
-- encode. Rows leave only by the sequencer's DELETE, in the same transaction that appends them to audit_log.
CREATE TABLE audit_queue (
  event_id uuid PRIMARY KEY,
  event text NOT NULL,
  enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The sequencer takes the oldest rows first.
CREATE INDEX audit_queue_order_idx ON audit_queue (enqueued_at, event_id);

-- leaf: the exact bytes the Merkle tree hashes (canonical JSON of event, index and the previous chain hash).
-- leaf_hash: SHA-256(0x00 ‖ leaf), kept for proofs. chain_hash: SHA-256(leaf), the next leaf's "prev".
CREATE TABLE audit_log (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  event_id uuid NOT NULL UNIQUE,
  leaf bytea NOT NULL,
  leaf_hash bytea NOT NULL,
  chain_hash bytea NOT NULL,
  event_time timestamptz NOT NULL,
  sequenced_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Exports by time range translate times to indexes.
CREATE INDEX audit_log_event_time_idx ON audit_log (event_time);

-- One signed note (C2SP signed-note of a tlog-checkpoint) per tree size the sequencer committed.
CREATE TABLE audit_checkpoints (
  size bigint PRIMARY KEY,
  root bytea NOT NULL,
  note text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The sequencer's state, one row: the fencing epoch of the current leader, and the tree's size, right edge
-- (CompactRange hashes, largest subtree first) and last chain hash, so a new leader continues without reading
-- the log. Every batch locks this row FOR UPDATE, which also serialises a stale leader behind a new one.
CREATE TABLE audit_sequencer (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  epoch bigint NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  frontier bytea[] NOT NULL,
  chain_hash bytea NOT NULL
);

INSERT INTO audit_sequencer (epoch, size, frontier, chain_hash)
VALUES (0, 0, '{}', '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Guards: the database refuses to rewrite history, whoever asks (the table owner included). A superuser can still
-- disable triggers; that is what the signed checkpoints and the hash chain are there to reveal.
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on % is refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Acknowledged events wait in the queue: emptying it wholesale would lose them without a trace.
CREATE TRIGGER audit_queue_no_truncate BEFORE TRUNCATE ON audit_queue
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_checkpoints FROM PUBLIC;
