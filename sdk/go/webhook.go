package atomic

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verifying a webhook delivery of an asynchronous task, as the gateway signs it: it POSTs the task's outcome with
// x-atomic-task-id, x-atomic-delivery-attempt and x-atomic-signature, a compact JWS (alg EdDSA, typ
// atomic-webhook+jwt, kid the audit key's name) made with the audit log's signing key, whose payload is
// {taskId, attempt, iat, bodySha256}. Delivery is at least once: deduplicate by task id.

// WebhookSignatureType is the JWS typ of a delivery's signature, so that it is mistaken for no other token.
const WebhookSignatureType = "atomic-webhook+jwt"

// DefaultWebhookTolerance is how far from now a delivery's signing time may be.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookOptions: Tolerance (default DefaultWebhookTolerance) and Now (default time.Now()).
type WebhookOptions struct {
	Tolerance time.Duration
	Now       time.Time
}

// WebhookDelivery is what a verified delivery's signature vouches for.
type WebhookDelivery struct {
	TaskID  string
	Attempt int
	// SignedAt is when the gateway signed this attempt.
	SignedAt time.Time
	KeyName  string
}

// VerifyWebhook verifies one delivery: body exactly as received, with its headers, against the log's public
// key(s). It is genuine when the signature verifies, bodySha256 is the SHA-256 of body, taskId and attempt are the
// headers', and the signing time is within the tolerance of now; else a *VerificationError with code
// signature_missing, signature_malformed, signature_algorithm, signature_type, unknown_key, signature_invalid,
// body_mismatch, task_mismatch, attempt_mismatch or timestamp_out_of_tolerance. Only the keys without RetiredAt are
// used: the gateway signs each delivery (each retry too) with its current key when it sends it, so a retired key
// signs none; keys that are all retired (or none) are key_invalid.
func VerifyWebhook(body []byte, header http.Header, given []PublicKey, options WebhookOptions) (*WebhookDelivery, error) {
	if len(given) == 0 {
		return nil, refuse("key_invalid", "no public key given")
	}
	settled, err := settleBounds(given)
	if err != nil {
		return nil, err
	}
	keys := make([]PublicKey, 0, len(settled))
	for _, key := range settled {
		if key.RetiredAt == nil {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, refuse("key_invalid", "every key given is retired (given with RetiredAt): a webhook is signed with the gateway's current key, so give that key without a bound")
	}
	note := ""
	if len(keys) < len(settled) {
		note = "; the keys given with RetiredAt are not used for webhooks"
	}
	token := header.Get("x-atomic-signature")
	if token == "" {
		return nil, refuse("signature_missing", "the delivery has no x-atomic-signature header")
	}
	malformed := func(why string) error { return refuse("signature_malformed", "x-atomic-signature %s", why) }
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, malformed("is not a compact JWS (three base64url parts)")
	}
	decoded := make([][]byte, 3)
	for i, part := range parts {
		data, ok := decodeBase64URL(part)
		if !ok {
			return nil, malformed("has a part that is not base64url")
		}
		decoded[i] = data
	}
	var protected map[string]any
	if json.Unmarshal(decoded[0], &protected) != nil || protected == nil {
		return nil, malformed("has a protected header that is not a JSON object")
	}
	if _, critical := protected["crit"]; critical {
		return nil, malformed("names critical extensions, which this verifier does not know")
	}
	if protected["alg"] != "EdDSA" {
		return nil, refuse("signature_algorithm", `the signature's alg is %v, not "EdDSA"`, protected["alg"])
	}
	if protected["typ"] != WebhookSignatureType {
		return nil, refuse("signature_type", "the signature's typ is %v, not %q", protected["typ"], WebhookSignatureType)
	}
	kid, _ := protected["kid"].(string)
	signed := []byte(parts[0] + "." + parts[1])
	var signer *PublicKey
	named := false
	for i := range keys {
		if keys[i].Name != kid {
			continue
		}
		named = true
		if len(decoded[2]) == ed25519.SignatureSize && ed25519.Verify(keys[i].Key, signed, decoded[2]) {
			signer = &keys[i]
			break
		}
	}
	if !named {
		return nil, refuse("unknown_key", "the signature's kid %q names none of the keys given%s", kid, note)
	}
	if signer == nil {
		return nil, refuse("signature_invalid", "the signature does not verify with the key(s) named %q%s", kid, note)
	}

	var payload struct {
		TaskID     *string  `json:"taskId"`
		Attempt    *float64 `json:"attempt"`
		IssuedAt   *float64 `json:"iat"`
		BodySHA256 *string  `json:"bodySha256"`
	}
	if json.Unmarshal(decoded[1], &payload) != nil || payload.TaskID == nil || payload.BodySHA256 == nil || !isWhole(payload.Attempt) || !isWhole(payload.IssuedAt) {
		return nil, malformed("signs no {taskId, attempt, iat, bodySha256}")
	}
	digest := sha256.Sum256(body)
	if *payload.BodySHA256 != hex.EncodeToString(digest[:]) {
		return nil, refuse("body_mismatch", "the body is not the one signed (bodySha256 differs)")
	}
	if header.Get("x-atomic-task-id") != *payload.TaskID {
		return nil, refuse("task_mismatch", "x-atomic-task-id is not the signed task %s", *payload.TaskID)
	}
	attempt := int(*payload.Attempt)
	if header.Get("x-atomic-delivery-attempt") != strconv.Itoa(attempt) {
		return nil, refuse("attempt_mismatch", "x-atomic-delivery-attempt is not the signed attempt %d", attempt)
	}
	signedAt := time.Unix(int64(*payload.IssuedAt), 0)
	now, tolerance := options.Now, options.Tolerance
	if now.IsZero() {
		now = time.Now()
	}
	if tolerance == 0 {
		tolerance = DefaultWebhookTolerance
	}
	if skew := now.Sub(signedAt).Abs(); skew > tolerance {
		return nil, refuse("timestamp_out_of_tolerance", "signed %s from now, more than the %s tolerated", skew, tolerance)
	}
	return &WebhookDelivery{TaskID: *payload.TaskID, Attempt: attempt, SignedAt: signedAt, KeyName: signer.Name}, nil
}

func isWhole(x *float64) bool {
	return x != nil && *x == math.Trunc(*x) && *x >= 0 && *x <= maxSafeInteger
}
