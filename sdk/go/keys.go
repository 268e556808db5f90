package atomic

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// KeyIdentity is how the log's key is named out of band: the note key name, the 4-byte signed-note key id in hex,
// and "sha256:" + the hex SHA-256 of the raw key, as the gateway logs them at start and `atomic keys` prints them.
type KeyIdentity struct {
	Name        string
	KeyID       string
	Fingerprint string
}

// PublicKey is one trusted key of the log (there are several after a rotation).
type PublicKey struct {
	Name     string
	Key      ed25519.PublicKey
	Identity KeyIdentity
	// RetiredAt, for a key the log no longer signs with, is the index of the key.rotated leaf that retired it (what
	// verify.mjs prints as --retired KEYID@INDEX): it signs trees of at most that many leaves (audit/FORMAT.md §6).
	RetiredAt *uint64
}

// Retired is this key retired by the key.rotated leaf at index at.
func (k PublicKey) Retired(at uint64) PublicKey {
	k.RetiredAt = &at
	return k
}

// ParsePublicKeys reads the log's public key(s) as the gateway publishes them: an Ed25519 JWK (RFC 8037, its kid
// the note key name, as in keys/audit-signing.pub.jwk) or a JSON array of them; after a rotation, each retired key
// as {"key": JWK, "retired_at": INDEX}, INDEX the index of the key.rotated leaf that retired it. A key that is not
// one is a *VerificationError with code key_invalid.
func ParsePublicKeys(jwks []byte) ([]PublicKey, error) {
	value, err := parseJSON(jwks)
	if err != nil {
		return nil, refuse("key_invalid", "public key: not JSON (%v)", err)
	}
	list, isList := value.([]any)
	if !isList {
		list = []any{value}
	}
	if len(list) == 0 {
		return nil, refuse("key_invalid", "no public key given")
	}
	keys := make([]PublicKey, 0, len(list))
	for i, jwk := range list {
		key, err := keyEntry(jwk, i+1)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return settleBounds(keys)
}

// keyEntry is a JWK, or {"key": JWK, "retired_at": INDEX}.
func keyEntry(value any, position int) (PublicKey, error) {
	fields, isObject := value.(map[string]any)
	jwk, isEntry := fields["key"]
	if !isObject || !isEntry {
		return publicKeyFromJWK(value)
	}
	for name := range fields {
		if name != "key" && name != "retired_at" {
			return PublicKey{}, refuse("key_invalid", `key %d: unexpected member %q (a retired key is {"key": JWK, "retired_at": INDEX})`, position, name)
		}
	}
	key, err := publicKeyFromJWK(jwk)
	if err != nil {
		return PublicKey{}, err
	}
	at, bounded := fields["retired_at"]
	if !bounded {
		return key, nil
	}
	index, ok := asIndex(at)
	if !ok {
		return PublicKey{}, refuse("key_invalid", "key %d: retired_at %v is not a non-negative integer (the index of the key.rotated leaf that retired the key)", position, at)
	}
	return key.Retired(uint64(index)), nil
}

// MustParsePublicKeys is ParsePublicKeys for keys known to be good (a program's own configuration); it panics.
func MustParsePublicKeys(jwks []byte) []PublicKey {
	keys, err := ParsePublicKeys(jwks)
	if err != nil {
		panic(err)
	}
	return keys
}

func publicKeyFromJWK(value any) (PublicKey, error) {
	invalid := func(format string, args ...any) (PublicKey, error) {
		return PublicKey{}, refuse("key_invalid", "public key: "+format, args...)
	}
	fields, ok := value.(map[string]any)
	if !ok {
		return invalid("not a JWK object")
	}
	if _, private := fields["d"]; private {
		return invalid(`the JWK holds a private key ("d"); hand auditors the public half only`)
	}
	if fields["kty"] != "OKP" {
		return invalid(`kty %v is not "OKP"`, fields["kty"])
	}
	if fields["crv"] != "Ed25519" {
		return invalid(`crv %v is not "Ed25519"`, fields["crv"])
	}
	if alg, present := fields["alg"]; present && alg != "EdDSA" {
		return invalid(`alg %v is not "EdDSA"`, alg)
	}
	if use, present := fields["use"]; present && use != "sig" {
		return invalid(`use %v is not "sig"`, use)
	}
	x, _ := fields["x"].(string)
	raw, ok := decodeBase64URL(x)
	if !ok || len(raw) != ed25519.PublicKeySize {
		return invalid("x is not the base64url of 32 bytes")
	}
	name, ok := fields["kid"].(string)
	if !ok {
		return invalid("the JWK has no kid (the log's note key name)")
	}
	if problem := keyNameProblem(name); problem != "" {
		return invalid("kid %q %s", name, problem)
	}
	fingerprint := sha256.Sum256(raw)
	identity := KeyIdentity{Name: name, KeyID: hex.EncodeToString(noteKeyID(name, raw)), Fingerprint: "sha256:" + hex.EncodeToString(fingerprint[:])}
	return PublicKey{Name: name, Key: ed25519.PublicKey(raw), Identity: identity}, nil
}

// noteKeyID is the C2SP signed-note key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ raw Ed25519 key)[:4].
func noteKeyID(name string, raw []byte) []byte {
	sum := sha256.Sum256(append(append([]byte(name), 0x0a, 0x01), raw...))
	return sum[:4]
}

// keyNameProblem says why name is not a note key name (non-empty, no white space as JavaScript's \s has it, no
// "+", no control character), or "".
func keyNameProblem(name string) string {
	if name == "" {
		return "is empty"
	}
	for _, r := range name {
		if r == '+' || unicode.Is(unicode.Cc, r) || isJavaScriptSpace(r) {
			return `holds white space, a "+" or a control character`
		}
	}
	return ""
}

func isJavaScriptSpace(r rune) bool {
	return strings.ContainsRune("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff", r) || (r >= 0x2000 && r <= 0x200a)
}
