package atomic

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Signed checkpoints (C2SP tlog-checkpoint in a signed note), as GET /v1/audit/checkpoint serves them:
//
//	<origin>\n<size>\n<base64 root>\n\n— <key name> <base64(4-byte key id ‖ Ed25519 signature of the body)>\n

// Checkpoint is a tree of the log: its origin (the log's name), its size in leaves and its root hash.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// SignedCheckpoint is a checkpoint and the trusted key that signed it.
type SignedCheckpoint struct {
	Checkpoint Checkpoint
	Key        PublicKey
}

const (
	signaturePrefix = "\u2014 "
	maxSignatures   = 100
)

var decimalPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

type signatureLine struct {
	name      string
	keyID     []byte
	signature []byte
}

type malformedNote string

func (m malformedNote) Error() string { return string(m) }

func splitNote(note string) (string, []signatureLine, error) {
	// The text is everything up to the last blank line; the signature block follows it.
	split := strings.LastIndex(note, "\n\n")
	if split < 0 {
		return "", nil, malformedNote("signed note has no blank line before its signatures")
	}
	body, block := note[:split+1], note[split+2:]
	if !strings.HasSuffix(block, "\n") {
		return "", nil, malformedNote("signed note does not end with a newline")
	}
	lines := strings.Split(block[:len(block)-1], "\n")
	if len(lines) > maxSignatures {
		return "", nil, malformedNote(fmt.Sprintf("signed note has more than %d signatures", maxSignatures))
	}
	signatures := make([]signatureLine, 0, len(lines))
	for _, line := range lines {
		rest, ok := strings.CutPrefix(line, signaturePrefix)
		if !ok {
			return "", nil, malformedNote(`signature line does not start with "— "`)
		}
		space := strings.IndexByte(rest, ' ')
		if space <= 0 {
			return "", nil, malformedNote("signature line has no key name")
		}
		name, encoded := rest[:space], rest[space+1:]
		if keyNameProblem(name) != "" {
			return "", nil, malformedNote(fmt.Sprintf("signature line has an invalid key name %q", name))
		}
		data, ok := decodeStandardBase64(encoded)
		if !ok || len(data) < 5 {
			return "", nil, malformedNote(fmt.Sprintf("signature by %q is not base64 of key id and signature", name))
		}
		signatures = append(signatures, signatureLine{name: name, keyID: data[:4], signature: data[4:]})
	}
	return body, signatures, nil
}

func parseCheckpointBody(body string) (Checkpoint, error) {
	if !utf8.ValidString(body) {
		return Checkpoint{}, malformedNote("checkpoint is not well-formed Unicode")
	}
	lines := strings.Split(body[:len(body)-1], "\n")
	if len(lines) != 3 {
		return Checkpoint{}, malformedNote(fmt.Sprintf("checkpoint has %d lines, expected 3 (origin, size, root hash)", len(lines)))
	}
	origin, sizeText, rootText := lines[0], lines[1], lines[2]
	if origin == "" || strings.IndexFunc(origin, func(r rune) bool { return unicode.Is(unicode.Cc, r) }) >= 0 {
		return Checkpoint{}, malformedNote("checkpoint origin is empty or holds a control character")
	}
	if !decimalPattern.MatchString(sizeText) {
		return Checkpoint{}, malformedNote(fmt.Sprintf("checkpoint size %q is not a decimal without leading zeros", sizeText))
	}
	size, err := strconv.ParseUint(sizeText, 10, 64)
	if err != nil || size > maxSafeInteger {
		return Checkpoint{}, malformedNote(fmt.Sprintf("checkpoint size %s is beyond 2^53 - 1", sizeText))
	}
	root, ok := decodeStandardBase64(rootText)
	if !ok || len(root) != hashSize {
		return Checkpoint{}, malformedNote("checkpoint root hash is not base64 of 32 bytes")
	}
	return Checkpoint{Origin: origin, Size: size, Root: root}, nil
}

// ParseCheckpoint reads the tree a signed note names WITHOUT checking any signature (for display); a note that is
// not one is a *VerificationError with code checkpoint_invalid.
func ParseCheckpoint(note string) (*Checkpoint, error) {
	body, _, err := splitNote(note)
	if err == nil {
		var checkpoint Checkpoint
		if checkpoint, err = parseCheckpointBody(body); err == nil {
			return &checkpoint, nil
		}
	}
	return nil, refuse("checkpoint_invalid", "%v", err)
}

// VerifyCheckpoint checks that one of keys signed the note, and says which: a *VerificationError with code
// checkpoint_invalid (not a signed checkpoint), checkpoint_signature (no valid signature by a key given),
// key_retired (a retired key signed a tree past its RetiredAt) or key_unbounded (two keys given without a bound).
func VerifyCheckpoint(note string, keys []PublicKey) (*SignedCheckpoint, error) {
	keys, err := settleBounds(keys)
	if err != nil {
		return nil, err
	}
	signed, err := verifyNote(note, keys, "checkpoint")
	if err != nil {
		return nil, err
	}
	if err := (keyTerms{keys: keys}).check(signed.Checkpoint.Size, signed.Key, "the checkpoint"); err != nil {
		return nil, err
	}
	return signed, nil
}

func verifyNote(note string, keys []PublicKey, what string) (*SignedCheckpoint, error) {
	if len(keys) == 0 {
		return nil, refuse("key_invalid", "no public key given")
	}
	body, signatures, err := splitNote(note)
	var checkpoint Checkpoint
	if err == nil {
		checkpoint, err = parseCheckpointBody(body)
	}
	if err != nil {
		return nil, refuse("checkpoint_invalid", "%s: %v", what, err)
	}
	var unknown, bad []string
	for _, key := range keys {
		keyID := noteKeyID(key.Name, key.Key)
		candidates := 0
		for _, line := range signatures {
			if line.name != key.Name || !bytes.Equal(line.keyID, keyID) {
				continue
			}
			candidates++
			if len(line.signature) == ed25519.SignatureSize && ed25519.Verify(key.Key, []byte(body), line.signature) {
				return &SignedCheckpoint{Checkpoint: checkpoint, Key: key}, nil
			}
		}
		if candidates > 0 {
			bad = append(bad, fmt.Sprintf("the signature by key %q does not verify", key.Name))
		} else {
			unknown = append(unknown, fmt.Sprintf("no signature by key %q (id %x)", key.Name, keyID))
		}
	}
	// A signature line that does not verify says more than the absence of one by the other keys.
	if len(bad) == 0 {
		bad = unknown
	}
	return nil, refuse("checkpoint_signature", "%s: %s", what, strings.Join(bad, "; "))
}

func encodeBase64(data []byte) string {
	return base64.StdEncoding.EncodeToString(data)
}
