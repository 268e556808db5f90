package atomic

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuditCheckpoint is the log's latest signed checkpoint (scope audit:read), as text: check it with VerifyCheckpoint.
func (c *Client) AuditCheckpoint(ctx context.Context) (string, error) {
	var note string
	err := c.call(ctx, http.MethodGet, "/v1/audit/checkpoint", nil, nil, &note)
	return note, err
}

// ReceiptOptions: TreeSize asks for the proof in the signed tree of that size (one the caller holds) rather than
// the latest; Wait is how long to keep asking while the event is not yet sequenced (audit_event_pending).
type ReceiptOptions struct {
	TreeSize uint64
	Wait     time.Duration
}

// pendingPoll is how often a pending receipt is asked for again: sooner than the gateway's Retry-After, which is
// a ceiling (the log sequences within its interval).
const pendingPoll = 250 * time.Millisecond

// AuditReceipt is the receipt of an audit event (scope audit:read; an execution's id is its event's id): its leaf
// with the inclusion proof in a signed tree. Verify it offline with its Verify method or VerifyReceipt.
func (c *Client) AuditReceipt(ctx context.Context, eventID string, options ReceiptOptions) (*Receipt, error) {
	return c.receipt(ctx, "/v1/audit/receipt/"+pathSegment(eventID), options)
}

func (c *Client) receipt(ctx context.Context, path string, options ReceiptOptions) (*Receipt, error) {
	query := url.Values{}
	if options.TreeSize > 0 {
		query.Set("tree_size", strconv.FormatUint(options.TreeSize, 10))
	}
	deadline := time.Now().Add(options.Wait)
	for {
		receipt, err := callFor[Receipt](ctx, c, http.MethodGet, path, query, nil)
		var apiError *APIError
		if err == nil || !errors.As(err, &apiError) || apiError.Code != "audit_event_pending" || time.Now().After(deadline) {
			return receipt, err
		}
		pause := min(pendingPoll, time.Until(deadline))
		if apiError.RetryAfter > 0 {
			pause = min(pause, apiError.RetryAfter)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
	}
}
