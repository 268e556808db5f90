package atomic

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Which key may sign a checkpoint of a given size after a key rotation (audit/FORMAT.md §6), as Atomic's own
// verifier decides it (src/audit/verify/key-terms.ts and rotation-leaf.ts).
//
// `atomic keys rotate` queues a key.rotated leaf and deletes the old private key, so the key retired by the leaf at
// index r signs trees of at most r leaves: a checkpoint of more than r leaves signed by it is what someone who
// obtained that key would make. A checkpoint of n leaves signed by key K is accepted only when:
//  1. n is at most K's bound, when K has one: the smaller of the index of the key.rotated leaf verified that retires
//     K (a receipt's own leaf) and K's RetiredAt; else key_retired;
//  2. K has a bound, or it is the only key given without one (taken for the log's current key); else key_unbounded;
//  3. the key the key.rotated leaf verified hands the log to is among the keys given; else key_unbounded.
//
// A key.rotated leaf must carry the retiring key's signature over the next key (its handover); else rotation_invalid.

const rotationKind = "key.rotated"

var rawKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// rotation is a verified key.rotated leaf: the key it retires signs trees of at most index leaves.
type rotation struct {
	index       uint64
	previousKey []byte
	nextKey     []byte
}

func fingerprintOf(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func describeKey(identity KeyIdentity) string {
	return fmt.Sprintf("%s id %s %s", identity.Name, identity.KeyID, identity.Fingerprint)
}

func rawKeyOf(value any) ([]byte, string, bool) {
	text, _ := value.(string)
	if !rawKeyPattern.MatchString(text) {
		return nil, "", false
	}
	raw, ok := decodeBase64URL(text)
	return raw, text, ok && len(raw) == ed25519.PublicKeySize
}

// rotationOf is the rotation a receipt's leaf records, nil for a leaf of another kind; a key.rotated leaf without a
// valid handover is a *VerificationError with code rotation_invalid.
func rotationOf(event map[string]any, index uint64, origin string) (*rotation, error) {
	if event["kind"] != rotationKind {
		return nil, nil
	}
	invalid := func(format string, args ...any) error {
		return refuse("rotation_invalid", "the receipt's leaf is a key.rotated leaf "+format, args...)
	}
	detail, ok := event["detail"].(map[string]any)
	if !ok {
		return nil, invalid("without a detail object")
	}
	previous, _, okPrevious := rawKeyOf(detail["previousKey"])
	next, nextText, okNext := rawKeyOf(detail["nextKey"])
	if !okPrevious || !okNext {
		return nil, invalid("whose detail.previousKey or detail.nextKey is not the base64url of a 32-byte Ed25519 key")
	}
	// Without this, whoever holds any key could write a leaf "retiring" the current one.
	handover, _ := detail["handover"].(string)
	signature, ok := decodeStandardBase64(handover)
	text := "atomic audit key rotation\n" + origin + "\n" + nextText + "\n"
	if !ok || len(signature) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(previous), []byte(text), signature) {
		return nil, invalid("whose handover is not a signature by the key it retires (%s) over the next key", fingerprintOf(previous))
	}
	return &rotation{index: index, previousKey: previous, nextKey: next}, nil
}

// keyTerms are the keys given, with their bounds, and the rotation leaf verified alongside them (a receipt's own).
type keyTerms struct {
	keys     []PublicKey
	rotation *rotation
}

type keyBound struct {
	index uint64
	byLog bool
}

// boundOf is the smaller of the key's RetiredAt and the rotation leaf that retires it, or nil.
func (t keyTerms) boundOf(key PublicKey) *keyBound {
	if r := t.rotation; r != nil && string(r.previousKey) == string(key.Key) && (key.RetiredAt == nil || r.index <= *key.RetiredAt) {
		return &keyBound{index: r.index, byLog: true}
	}
	if key.RetiredAt == nil {
		return nil
	}
	return &keyBound{index: *key.RetiredAt}
}

// check is a *VerificationError (key_retired, key_unbounded) unless signer may sign a checkpoint of size leaves;
// what names the checkpoint ("the receipt's checkpoint").
func (t keyTerms) check(size uint64, signer PublicKey, what string) error {
	named := fmt.Sprintf("%s of %d leaves is signed by key %s", what, size, describeKey(signer.Identity))
	bound := t.boundOf(signer)
	if bound != nil && size > bound.index {
		by := fmt.Sprintf("you gave it as retired at leaf %d (RetiredAt)", bound.index)
		if bound.byLog {
			by = fmt.Sprintf("the key.rotated leaf at index %d retired it", bound.index)
		}
		return refuse("key_retired", "%s, but %s: it signs trees of at most %d leaves, and a later one is what a holder of the retired key would sign", named, by, bound.index)
	}
	if r := t.rotation; r != nil {
		given := false
		for _, key := range t.keys {
			given = given || string(key.Key) == string(r.nextKey)
		}
		if !given {
			return refuse("key_unbounded", "%s, but the key.rotated leaf at index %d hands the log to key %s, which is not among the keys given: give it too (it is the current key, or retired by a later leaf)", named, r.index, fingerprintOf(r.nextKey))
		}
	}
	if bound != nil {
		return nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, key := range t.keys {
		if t.boundOf(key) == nil && !seen[string(key.Key)] {
			seen[string(key.Key)] = true
			ids = append(ids, key.Identity.KeyID)
		}
	}
	if len(ids) > 1 {
		return refuse("key_unbounded", "%s, but keys %s are given without a bound and only one of them can be the log's current key: give each retired key its RetiredAt (the index of the key.rotated leaf that retired it)", named, strings.Join(ids, ", "))
	}
	return nil
}

// settleBounds gives every copy of a key the bound one of them carries; a key given two bounds is key_invalid.
func settleBounds(keys []PublicKey) ([]PublicKey, error) {
	bounds := map[string]uint64{}
	for _, key := range keys {
		if key.RetiredAt == nil {
			continue
		}
		if earlier, twice := bounds[string(key.Key)]; twice {
			return nil, refuse("key_invalid", "key %s is given with RetiredAt twice (%d and %d): give each retired key once", key.Identity.Fingerprint, earlier, *key.RetiredAt)
		}
		bounds[string(key.Key)] = *key.RetiredAt
	}
	settled := make([]PublicKey, len(keys))
	for i, key := range keys {
		if at, bounded := bounds[string(key.Key)]; bounded && key.RetiredAt == nil {
			key.RetiredAt = &at
		}
		settled[i] = key
	}
	return settled, nil
}
