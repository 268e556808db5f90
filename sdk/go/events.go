package atomic

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"
)

// EventsOptions: LastEventID resumes after that event (else the stream starts at the log's beginning); Kinds keeps
// only those kinds. MaxReconnects bounds consecutive failed reconnections (default 5); NoReconnect ends the stream
// at the first break instead.
type EventsOptions struct {
	LastEventID   string
	Kinds         []string
	NoReconnect   bool
	MaxReconnects int
}

const defaultRetry = time.Second

// Events is the tenant's audit events as they are logged (GET /v1/events; scope infer, embed or tasks). When the
// connection ends or breaks it reconnects, after the stream's retry or 1 s, with Last-Event-ID set to the last id
// received: no event is missed, and one may come twice (at least once). It ends when ctx does, when the loop
// breaks, or with the error yielded last (a refusal, or too many failed reconnections).
func (c *Client) Events(ctx context.Context, options EventsOptions) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		lastID, failures, retry := options.LastEventID, 0, defaultRetry
		maxReconnects := options.MaxReconnects
		if maxReconnects == 0 {
			maxReconnects = 5
		}
		query := map[string][]string{}
		if len(options.Kinds) > 0 {
			query["kinds"] = []string{strings.Join(options.Kinds, ",")}
		}
		for {
			header := http.Header{}
			if lastID != "" {
				header.Set("last-event-id", lastID)
			}
			stopped, received := false, false
			err := c.stream(ctx, "/v1/events", query, header, func(event ServerSentEvent) bool {
				received = true
				lastID = event.ID
				if event.Retry > 0 {
					retry = time.Duration(event.Retry) * time.Millisecond
				}
				decoded := Event{ID: event.ID, Kind: event.Event, Event: AuditEvent{Raw: json.RawMessage(event.Data)}}
				if err := json.Unmarshal([]byte(event.Data), &decoded.Event); err != nil {
					stopped = !yield(Event{}, fmt.Errorf("atomic: event %s is not an audit event: %w", event.ID, err))
					return false
				}
				stopped = !yield(decoded, nil)
				return !stopped
			})
			if stopped || ctx.Err() != nil {
				return
			}
			if _, refused := err.(*APIError); refused {
				yield(Event{}, err)
				return
			}
			if received || err == nil {
				failures = 0
			} else if failures++; failures > maxReconnects || options.NoReconnect {
				yield(Event{}, err)
				return
			}
			if options.NoReconnect {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
		}
	}
}
