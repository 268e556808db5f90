package atomic

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Keys after a rotation: each retired key carries where it was retired (RetiredAt), and a retired key's checkpoint
// past that bound is refused, in receipts (the shared vectors hold the verdicts) and in checkpoints alike.

type keyTermsFixture struct {
	receipt  json.RawMessage
	treeSize uint64
	note     string
	key      PublicKey
	other    PublicKey
	keyJSON  json.RawMessage
}

func loadKeyTermsFixture(t *testing.T) keyTermsFixture {
	t.Helper()
	byName := map[string]int{}
	all := loadVectors(t)
	for i, vector := range all.Receipts {
		byName[vector.Name] = i
	}
	valid := all.Receipts[byName["valid"]]
	var receipt Receipt
	if err := json.Unmarshal(valid.Receipt, &receipt); err != nil {
		t.Fatal(err)
	}
	var keys []json.RawMessage
	if err := json.Unmarshal(all.Receipts[byName["two keys without a bound"]].Keys, &keys); err != nil {
		t.Fatal(err)
	}
	other, key := MustParsePublicKeys(keys[0])[0], MustParsePublicKeys(keys[1])[0]
	return keyTermsFixture{receipt: valid.Receipt, treeSize: receipt.TreeSize, note: receipt.Checkpoint, key: key, other: other, keyJSON: keys[1]}
}

func wantCode(t *testing.T, err error, code, words string) {
	t.Helper()
	if codeOf(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	if !strings.Contains(err.(*VerificationError).Reason, words) {
		t.Fatalf("want a reason with %q, got %q", words, err.(*VerificationError).Reason)
	}
}

func TestRetiredKeyHeldToItsBound(t *testing.T) {
	f := loadKeyTermsFixture(t)
	if _, err := VerifyReceipt(f.receipt, []PublicKey{f.key.Retired(f.treeSize), f.other}, VerifyOptions{}); err != nil {
		t.Fatalf("within its bound: %v", err)
	}
	_, err := VerifyReceipt(f.receipt, []PublicKey{f.key.Retired(f.treeSize - 1), f.other}, VerifyOptions{})
	wantCode(t, err, "key_retired", fmt.Sprintf("you gave it as retired at leaf %d (RetiredAt)", f.treeSize-1))
	_, err = VerifyReceipt(f.receipt, []PublicKey{f.other, f.key}, VerifyOptions{})
	wantCode(t, err, "key_unbounded", "give each retired key its RetiredAt")
	// One key alone, as before a rotation: no bound needed.
	if _, err := VerifyReceipt(f.receipt, []PublicKey{f.key}, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A key given two bounds.
	_, err = VerifyReceipt(f.receipt, []PublicKey{f.key.Retired(20), f.key.Retired(20), f.other}, VerifyOptions{})
	wantCode(t, err, "key_invalid", "is given with RetiredAt twice")
}

func TestCheckpointsHeldToTheSameRule(t *testing.T) {
	f := loadKeyTermsFixture(t)
	if signed, err := VerifyCheckpoint(f.note, []PublicKey{f.key}); err != nil || signed.Checkpoint.Size != f.treeSize {
		t.Fatalf("one key: %v", err)
	}
	if _, err := VerifyCheckpoint(f.note, []PublicKey{f.other.Retired(3), f.key}); err != nil {
		t.Fatalf("the other key bounded: %v", err)
	}
	_, err := VerifyCheckpoint(f.note, []PublicKey{f.other, f.key})
	wantCode(t, err, "key_unbounded", "are given without a bound")
	_, err = VerifyCheckpoint(f.note, []PublicKey{f.key.Retired(3), f.other})
	wantCode(t, err, "key_retired", fmt.Sprintf("the checkpoint of %d leaves is signed by key ", f.treeSize))
}

func TestParsePublicKeysReadsRetiredKeys(t *testing.T) {
	f := loadKeyTermsFixture(t)
	keys, err := ParsePublicKeys([]byte(fmt.Sprintf(`[{"key": %s, "retired_at": 30}]`, f.keyJSON)))
	if err != nil || len(keys) != 1 || keys[0].RetiredAt == nil || *keys[0].RetiredAt != 30 || keys[0].Identity != f.key.Identity {
		t.Fatalf("want the key retired at 30, got %+v, %v", keys, err)
	}
	for entry, words := range map[string]string{
		`{"key": %s, "retiredAt": 3}`:    `unexpected member "retiredAt"`,
		`{"key": %s, "retired_at": -1}`:  "retired_at -1 is not a non-negative integer",
		`{"key": %s, "retired_at": "3"}`: "retired_at 3 is not a non-negative integer",
		`{"key": %s, "retired_at": 1.5}`: "retired_at 1.5 is not a non-negative integer",
	} {
		_, err := ParsePublicKeys([]byte(fmt.Sprintf("["+entry+"]", f.keyJSON)))
		wantCode(t, err, "key_invalid", words)
	}
}
