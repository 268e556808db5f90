package atomic

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Receipt is one leaf of the audit log with its RFC 9162 inclusion proof in a signed tree, as
// GET /v1/audit/receipt/{eventId} answers it (audit/FORMAT.md §9). Verify it offline with Verify or VerifyReceipt.
type Receipt struct {
	Object         string   `json:"object"`
	EventID        string   `json:"event_id"`
	Index          uint64   `json:"index"`
	Leaf           string   `json:"leaf"`
	LeafHash       string   `json:"leaf_hash"`
	ChainHash      string   `json:"chain_hash,omitempty"`
	TreeSize       uint64   `json:"tree_size"`
	Root           string   `json:"root"`
	Checkpoint     string   `json:"checkpoint"`
	InclusionProof []string `json:"inclusion_proof"`
	raw            json.RawMessage
}

type receiptFields Receipt

// UnmarshalJSON keeps the receipt's JSON as it came: that, not a re-encoding, is what Verify checks.
func (r *Receipt) UnmarshalJSON(data []byte) error {
	var fields receiptFields
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	*r = Receipt(fields)
	r.raw = append(json.RawMessage(nil), data...)
	return nil
}

// MarshalJSON writes the receipt as it came, so that a stored receipt stays byte for byte the gateway's.
func (r Receipt) MarshalJSON() ([]byte, error) {
	if r.raw != nil {
		return r.raw, nil
	}
	return json.Marshal(receiptFields(r))
}

// Verify is VerifyReceipt of this receipt.
func (r *Receipt) Verify(keys []PublicKey, options VerifyOptions) (*VerifiedReceipt, error) {
	data, err := r.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return VerifyReceipt(data, keys, options)
}

// VerifyOptions: HeldCheckpoint is a signed checkpoint the caller already holds; the receipt must then prove
// inclusion in exactly that tree.
type VerifyOptions struct {
	HeldCheckpoint string
}

// VerifiedReceipt is what a receipt proves: the event EventID of Kind is leaf Index of the tree of TreeSize leaves
// with Root (base64) of the log Origin, signed by Key; Held when that is the checkpoint the caller held.
type VerifiedReceipt struct {
	EventID  string
	Kind     string
	Index    uint64
	Origin   string
	TreeSize uint64
	Root     string
	Key      KeyIdentity
	Held     bool
	// Event is the audit event as the log holds it: digests and names, never content.
	Event map[string]any
}

var receiptMembers = []string{"object", "event_id", "index", "leaf", "leaf_hash", "chain_hash", "tree_size", "root", "checkpoint", "inclusion_proof"}

// A proof of a tree of at most 2^53 leaves has at most 53 hashes.
const maxProofHashes = 128

// VerifyReceipt verifies a receipt's JSON offline against the trusted keys (ParsePublicKeys; after a rotation each
// retired key with its RetiredAt): no network, no database. The checks, their order and their codes are those of
// Atomic's own verifier; the first that fails is a *VerificationError with code key_invalid, receipt_invalid,
// entry_malformed, entry_not_canonical, entry_mismatch, leaf_hash_mismatch, checkpoint_invalid, tree_mismatch,
// inclusion_failed, checkpoint_signature, rotation_invalid (the receipt's leaf is a key.rotated one without a valid
// handover), key_retired (a retired key signed a tree past its bound: the receipt's leaf, when it is the rotation
// that retired it, or its RetiredAt), key_unbounded (two keys given without a bound, or the rotation leaf hands the
// log to a key not given), or against a held checkpoint origin_mismatch, checkpoint_mismatch (another size: ask for
// ?tree_size=) or fork (another root).
func VerifyReceipt(receipt []byte, keys []PublicKey, options VerifyOptions) (*VerifiedReceipt, error) {
	if len(keys) == 0 {
		return nil, refuse("key_invalid", "no public key given")
	}
	keys, err := settleBounds(keys)
	if err != nil {
		return nil, err
	}
	// 1. The shape: exactly the members of FORMAT.md §9.
	invalid := func(format string, args ...any) error {
		return refuse("receipt_invalid", "the receipt "+format, args...)
	}
	value, err := parseJSON(receipt)
	if err != nil {
		return nil, invalid("is not JSON (%v)", err)
	}
	fields, ok := value.(map[string]any)
	if !ok {
		return nil, invalid("is not a JSON object")
	}
	known := map[string]bool{}
	for _, name := range receiptMembers {
		known[name] = true
	}
	for name := range fields {
		if !known[name] {
			return nil, invalid("has an unexpected member %q", name)
		}
	}
	for _, name := range receiptMembers {
		if _, present := fields[name]; !present && name != "chain_hash" {
			return nil, invalid("has no %s", name)
		}
	}
	if fields["object"] != "audit.receipt" {
		return nil, invalid(`object is %v, not "audit.receipt"`, fields["object"])
	}
	eventID, ok := fields["event_id"].(string)
	if !ok || eventID == "" {
		return nil, invalid("event_id is not a non-empty string")
	}
	index, ok := asIndex(fields["index"])
	if !ok {
		return nil, invalid("index is not a non-negative safe integer")
	}
	leaf, ok := fields["leaf"].(string)
	if !ok {
		return nil, invalid("leaf is not a string")
	}
	claimedLeafHash, ok := fields["leaf_hash"].(string)
	if !ok {
		return nil, invalid("leaf_hash is not a string")
	}
	claimedChainHash, hasChainHash := fields["chain_hash"]
	if _, isString := claimedChainHash.(string); hasChainHash && !isString {
		return nil, invalid("chain_hash is not a string")
	}
	treeSize, ok := asIndex(fields["tree_size"])
	if !ok {
		return nil, invalid("tree_size is not a non-negative safe integer")
	}
	root, ok := fields["root"].(string)
	if !ok {
		return nil, invalid("root is not a string")
	}
	note, ok := fields["checkpoint"].(string)
	if !ok {
		return nil, invalid("checkpoint is not a string")
	}
	proofText, ok := fields["inclusion_proof"].([]any)
	if !ok || len(proofText) > maxProofHashes {
		return nil, invalid("inclusion_proof is not an array of at most %d hashes", maxProofHashes)
	}
	proof := make([][]byte, len(proofText))
	for i, text := range proofText {
		encoded, _ := text.(string)
		node, ok := decodeStandardBase64(encoded)
		if !ok || len(node) != hashSize {
			return nil, invalid("inclusion_proof[%d] is not base64 of 32 bytes", i)
		}
		proof[i] = node
	}

	// 2. The entry: the leaf exactly as the log wrote it, and the one the receipt says it is.
	decoded, err := decodeLeaf(leaf)
	if err != nil {
		return nil, err
	}
	if decoded.index != uint64(index) {
		return nil, refuse("entry_mismatch", "the leaf holds index %d, the receipt says %d", decoded.index, index)
	}
	if decoded.event["id"] != eventID {
		return nil, refuse("entry_mismatch", "the leaf holds event %v, the receipt says %q", decoded.event["id"], eventID)
	}

	// 3. The leaf hash, recomputed: the receipt's own copies are only compared with it.
	computed := LeafHash([]byte(leaf))
	if claimed, ok := decodeStandardBase64(claimedLeafHash); !ok || !bytes.Equal(claimed, computed) {
		return nil, refuse("leaf_hash_mismatch", "leaf_hash is not the base64 of SHA-256(0x00 ‖ leaf) = %s", encodeBase64(computed))
	}
	chain := sha256.Sum256([]byte(leaf))
	if hasChainHash && claimedChainHash != hex.EncodeToString(chain[:]) {
		return nil, refuse("leaf_hash_mismatch", "chain_hash is not the hex of SHA-256(leaf) = %x", chain)
	}

	// 4. The inclusion proof, against the tree the checkpoint's text names (its signature is checked next).
	tree, err := ParseCheckpoint(note)
	if err != nil {
		return nil, refuse("checkpoint_invalid", "the receipt's checkpoint: %s", err.(*VerificationError).Reason)
	}
	treeRoot := encodeBase64(tree.Root)
	if uint64(treeSize) != tree.Size || root != treeRoot {
		return nil, refuse("tree_mismatch", "tree_size and root (%d, %s) are not the checkpoint's (%d, %s)", treeSize, root, tree.Size, treeRoot)
	}
	if uint64(index) >= tree.Size {
		return nil, refuse("inclusion_failed", "index %d is outside the checkpoint's tree of %d leaves", index, tree.Size)
	}
	if !VerifyInclusion(uint64(index), tree.Size, computed, proof, tree.Root) {
		return nil, refuse("inclusion_failed", "inclusion_proof does not lead from the leaf at index %d to the root of the tree of %d leaves", index, tree.Size)
	}

	// 5. The checkpoint is the log's: signed by a key the caller trusts.
	signed, err := verifyNote(note, keys, "the receipt's checkpoint")
	if err != nil {
		return nil, err
	}

	// 6. The key at the size it signed: a retired key signs no tree past its rotation (keyterms.go). The leaf is the
	// one leaf verified here: when it is itself a rotation, it bounds the key it retires.
	rotated, err := rotationOf(decoded.event, uint64(index), signed.Checkpoint.Origin)
	if err != nil {
		return nil, err
	}
	terms := keyTerms{keys: keys, rotation: rotated}
	if err := terms.check(signed.Checkpoint.Size, signed.Key, "the receipt's checkpoint"); err != nil {
		return nil, err
	}

	// 7. The tree the caller holds, if any: the receipt must be for exactly that one.
	if options.HeldCheckpoint != "" {
		held, err := verifyNote(options.HeldCheckpoint, keys, "the checkpoint you hold")
		if err != nil {
			return nil, err
		}
		if err := terms.check(held.Checkpoint.Size, held.Key, "the checkpoint you hold"); err != nil {
			return nil, err
		}
		mine, proven := held.Checkpoint, signed.Checkpoint
		switch {
		case mine.Origin != proven.Origin:
			return nil, refuse("origin_mismatch", "the checkpoint you hold is of log %q, the receipt's of %q", mine.Origin, proven.Origin)
		case mine.Size != proven.Size:
			return nil, refuse("checkpoint_mismatch", "the receipt proves inclusion in the tree of %d leaves, the checkpoint you hold is of %d: ask for GET /v1/audit/receipt/%s?tree_size=%d", proven.Size, mine.Size, eventID, mine.Size)
		case !bytes.Equal(mine.Root, proven.Root):
			return nil, refuse("fork", "the checkpoint you hold and the receipt's both have %d leaves but different roots: the log signed two histories", mine.Size)
		}
	}
	kind, _ := decoded.event["kind"].(string)
	return &VerifiedReceipt{
		EventID:  eventID,
		Kind:     kind,
		Index:    uint64(index),
		Origin:   signed.Checkpoint.Origin,
		TreeSize: signed.Checkpoint.Size,
		Root:     treeRoot,
		Key:      signed.Key.Identity,
		Held:     options.HeldCheckpoint != "",
		Event:    decoded.event,
	}, nil
}
