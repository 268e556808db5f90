package atomic

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The shared vectors of sdk/testdata/vectors.json (made by sdk/testdata/make-vectors.ts with Atomic's own code):
// every receipt's verdict is that of Atomic's TypeScript verifier.
type vectors struct {
	Receipts []struct {
		Name           string          `json:"name"`
		Receipt        json.RawMessage `json:"receipt"`
		Keys           json.RawMessage `json:"keys"`
		HeldCheckpoint string          `json:"held_checkpoint"`
		Expect         struct {
			OK        bool   `json:"ok"`
			Code      string `json:"code"`
			EventID   string `json:"event_id"`
			Kind      string `json:"kind"`
			Index     uint64 `json:"index"`
			Origin    string `json:"origin"`
			TreeSize  uint64 `json:"tree_size"`
			Root      string `json:"root"`
			Held      bool   `json:"held"`
			KeyIDName struct {
				Name        string `json:"name"`
				KeyID       string `json:"key_id"`
				Fingerprint string `json:"fingerprint"`
			} `json:"key"`
		} `json:"expect"`
	} `json:"receipts"`
	Webhooks []struct {
		Name             string            `json:"name"`
		Body             string            `json:"body"`
		Headers          map[string]string `json:"headers"`
		Keys             json.RawMessage   `json:"keys"`
		Now              int64             `json:"now"`
		ToleranceSeconds int64             `json:"tolerance_seconds"`
		Expect           struct {
			OK      bool   `json:"ok"`
			Code    string `json:"code"`
			TaskID  string `json:"task_id"`
			Attempt int    `json:"attempt"`
			IAT     int64  `json:"iat"`
		} `json:"expect"`
	} `json:"webhooks"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	// In the repository beside the module; in a packaged module, inside it.
	var data []byte
	var err error
	for _, path := range []string{filepath.Join("..", "testdata", "vectors.json"), filepath.Join("testdata", "vectors.json")} {
		if data, err = os.ReadFile(path); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the shared test vectors: %v", err)
	}
	var all vectors
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatalf("the shared test vectors: %v", err)
	}
	return all
}

func codeOf(err error) string {
	var refused *VerificationError
	if errors.As(err, &refused) {
		return refused.Code
	}
	return ""
}

func TestReceiptVectors(t *testing.T) {
	all := loadVectors(t)
	if len(all.Receipts) < 40 {
		t.Fatalf("only %d receipt vectors", len(all.Receipts))
	}
	for _, vector := range all.Receipts {
		t.Run(vector.Name, func(t *testing.T) {
			verified, err := func() (*VerifiedReceipt, error) {
				keys, err := ParsePublicKeys(vector.Keys)
				if err != nil {
					return nil, err
				}
				return VerifyReceipt(vector.Receipt, keys, VerifyOptions{HeldCheckpoint: vector.HeldCheckpoint})
			}()
			expect := vector.Expect
			if !expect.OK {
				if codeOf(err) != expect.Code {
					t.Fatalf("want %s, got %v", expect.Code, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("want a verified receipt, got %v", err)
			}
			got := []any{verified.EventID, verified.Kind, verified.Index, verified.Origin, verified.TreeSize, verified.Root, verified.Held, verified.Key.Name, verified.Key.KeyID, verified.Key.Fingerprint}
			want := []any{expect.EventID, expect.Kind, expect.Index, expect.Origin, expect.TreeSize, expect.Root, expect.Held, expect.KeyIDName.Name, expect.KeyIDName.KeyID, expect.KeyIDName.Fingerprint}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("field %d: want %v, got %v", i, want[i], got[i])
				}
			}
		})
	}
}

func TestReceiptKeepsItsJSON(t *testing.T) {
	vector := loadVectors(t).Receipts[0]
	var receipt Receipt
	if err := json.Unmarshal(vector.Receipt, &receipt); err != nil {
		t.Fatal(err)
	}
	keys := MustParsePublicKeys(vector.Keys)
	if _, err := receipt.Verify(keys, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	receipt.InclusionProof[0] = receipt.Root
	receipt.raw = nil
	if _, err := receipt.Verify(keys, VerifyOptions{}); codeOf(err) != "inclusion_failed" {
		t.Fatalf("want inclusion_failed for a changed proof, got %v", err)
	}
}

func TestWebhookVectors(t *testing.T) {
	for _, vector := range loadVectors(t).Webhooks {
		t.Run(vector.Name, func(t *testing.T) {
			header := http.Header{}
			for name, value := range vector.Headers {
				header.Set(name, value)
			}
			delivery, err := func() (*WebhookDelivery, error) {
				keys, err := ParsePublicKeys(vector.Keys)
				if err != nil {
					return nil, err
				}
				return VerifyWebhook([]byte(vector.Body), header, keys, WebhookOptions{Now: time.Unix(vector.Now, 0), Tolerance: time.Duration(vector.ToleranceSeconds) * time.Second})
			}()
			expect := vector.Expect
			if !expect.OK {
				if codeOf(err) != expect.Code {
					t.Fatalf("want %s, got %v", expect.Code, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("want a verified delivery, got %v", err)
			}
			if delivery.TaskID != expect.TaskID || delivery.Attempt != expect.Attempt || delivery.SignedAt.Unix() != expect.IAT {
				t.Fatalf("want %s attempt %d at %d, got %+v", expect.TaskID, expect.Attempt, expect.IAT, delivery)
			}
		})
	}
}

// The gateway signs each delivery with its current key when it sends it: a key given only as retired verifies no
// delivery, whatever its bound; the same key given without one does.
func TestWebhookRefusesAKeyGivenOnlyAsRetired(t *testing.T) {
	var valid, rotated int
	all := loadVectors(t).Webhooks
	for i, vector := range all {
		switch vector.Name {
		case "valid":
			valid = i
		case "valid after a rotation: the second key signed":
			rotated = i
		}
	}
	vector := all[valid]
	header := http.Header{}
	for name, value := range vector.Headers {
		header.Set(name, value)
	}
	key := MustParsePublicKeys(vector.Keys)[0]
	other := MustParsePublicKeys(all[rotated].Keys)[0]
	verify := func(keys ...PublicKey) (*WebhookDelivery, error) {
		return VerifyWebhook([]byte(vector.Body), header, keys, WebhookOptions{Now: time.Unix(vector.Now, 0)})
	}
	if _, err := verify(key.Retired(5)); codeOf(err) != "key_invalid" {
		t.Fatalf("a key given only as retired: want key_invalid, got %v", err)
	}
	if _, err := verify(key.Retired(5), other); codeOf(err) != "signature_invalid" {
		t.Fatalf("the signer retired beside another key: want signature_invalid, got %v", err)
	}
	// Given without a bound as well, the key takes the bound given (as for receipts): still retired.
	if _, err := verify(key, key.Retired(5)); codeOf(err) != "key_invalid" {
		t.Fatalf("the key given both ways: want key_invalid, got %v", err)
	}
	for _, keys := range [][]PublicKey{{key}, {other.Retired(5), key}} {
		delivery, err := verify(keys...)
		if err != nil || delivery.TaskID != vector.Expect.TaskID {
			t.Fatalf("the key given without a bound: want %s, got %+v, %v", vector.Expect.TaskID, delivery, err)
		}
	}
}
