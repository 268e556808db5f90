-- Stored hashes of the audit log's Merkle tree, so that an inclusion proof (a receipt) or a consistency proof reads
-- O(log n) hashes instead of all n leaf hashes (32 MB at a million leaves).
--
-- A row (level, idx) is MTH of the leaves [idx·2^level, (idx+1)·2^level): the root of a complete, aligned subtree
-- of the RFC 6962 tree, which never changes once its 2^level leaves exist. Only levels that are multiples of 8 are
-- kept (the tile height of C2SP tlog-tiles; proof-plan.ts's TILE_HEIGHT): any complete subtree a proof needs is
-- then at most 128 hashes of the stored level at or below it (leaf hashes of audit_log below level 8), a proof at
-- most 512 hashes per 8 levels of the tree, and the table holds one row per 255 leaves or so. Level 40 covers 2^40
-- leaves; 48 is as far as a size that is a safe integer in JavaScript goes.
--
-- The sequencer inserts the nodes a batch completes in the batch's own transaction, from the right edge of the tree
-- that it keeps in audit_sequencer (a subtree may straddle batches), never reading leaves back.
CREATE TABLE audit_tree_nodes (
  level smallint NOT NULL CHECK (level % 8 = 0 AND level BETWEEN 8 AND 48),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (level, idx)
);

-- Backfill: a log sequenced under 0002 has leaves but no nodes, and a proof over it would find none of the hashes
-- it reads. Recompute them from audit_log.leaf_hash one height at a time: each pair of siblings that both exist
-- makes their parent, SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1), so only complete subtrees ever appear; the
-- heights that are multiples of 8 are kept. Lower heights live in a temporary table, dropped with this transaction.
-- Locking the sequencer's row first waits for a batch in flight and keeps the next one out until this commits, so
-- no leaf lands between the backfill's reads and the sequencer that stores its nodes itself.
DO $$
DECLARE
  h int := 1;
  made bigint;
BEGIN
  PERFORM 1 FROM audit_sequencer FOR UPDATE;

  CREATE TEMPORARY TABLE audit_tree_backfill (
    height int NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (height, idx)
  ) ON COMMIT DROP;

  INSERT INTO audit_tree_backfill (height, idx, hash)
  SELECT 1, l.idx / 2, sha256('\x01'::bytea || l.leaf_hash || r.leaf_hash)
    FROM audit_log l JOIN audit_log r ON r.idx = l.idx + 1
   WHERE l.idx % 2 = 0;
  GET DIAGNOSTICS made = ROW_COUNT;

  WHILE made > 0 LOOP
    IF h % 8 = 0 THEN
      INSERT INTO audit_tree_nodes (level, idx, hash)
      SELECT h, b.idx, b.hash FROM audit_tree_backfill b WHERE b.height = h;
    END IF;
    ANALYZE audit_tree_backfill;
    INSERT INTO audit_tree_backfill (height, idx, hash)
    SELECT h + 1, l.idx / 2, sha256('\x01'::bytea || l.hash || r.hash)
      FROM audit_tree_backfill l JOIN audit_tree_backfill r ON r.height = h AND r.idx = l.idx + 1
     WHERE l.height = h AND l.idx % 2 = 0;
    GET DIAGNOSTICS made = ROW_COUNT;
    DELETE FROM audit_tree_backfill b WHERE b.height = h;
    h := h + 1;
  END LOOP;
END
$$;

-- The same guards as the log's (0002): the database refuses to rewrite a stored hash, whoever asks.
CREATE TRIGGER audit_tree_nodes_append_only BEFORE UPDATE OR DELETE ON audit_tree_nodes
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_tree_nodes_no_truncate BEFORE TRUNCATE ON audit_tree_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_tree_nodes FROM PUBLIC;
