package atomic

import (
	"encoding/json"
	"errors"
	"regexp"
)

// An audit log leaf: the canonical JSON of {"event", "index", "prev"} that the log hashed (audit/FORMAT.md §1).

var (
	eventTimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	hexHashPattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

type decodedLeaf struct {
	index uint64
	event map[string]any
}

func decodeLeaf(text string) (*decodedLeaf, error) {
	malformed := func(format string, args ...any) error {
		return refuse("entry_malformed", "the receipt's leaf: "+format, args...)
	}
	value, err := parseJSON([]byte(text))
	if err != nil {
		return nil, malformed("leaf is not JSON (%v)", err)
	}
	canonical, err := canonicalize(value)
	if err != nil {
		if errors.Is(err, errNoCanonicalForm) {
			return nil, malformed("leaf has no canonical form (%v)", err)
		}
		return nil, malformed("%v", err)
	}
	if canonical != text {
		return nil, refuse("entry_not_canonical", "the receipt's leaf is not in canonical JSON (RFC 8785) form")
	}
	fields, ok := value.(map[string]any)
	if !ok {
		return nil, malformed("leaf is not a JSON object")
	}
	for _, name := range []string{"event", "index", "prev"} {
		if _, ok := fields[name]; !ok {
			return nil, malformed("leaf has no %q", name)
		}
	}
	if len(fields) != 3 {
		return nil, malformed("leaf has an unexpected field")
	}
	index, ok := asIndex(fields["index"])
	if !ok {
		return nil, malformed("leaf index is not a non-negative safe integer")
	}
	if prev, ok := fields["prev"].(string); !ok || !hexHashPattern.MatchString(prev) {
		return nil, malformed("leaf prev is not 64 lowercase hex digits")
	}
	event, ok := fields["event"].(map[string]any)
	if !ok {
		return nil, malformed("leaf event: not an object")
	}
	if problem := eventProblem(event); problem != "" {
		return nil, malformed("leaf event: %s", problem)
	}
	return &decodedLeaf{index: uint64(index), event: event}, nil
}

func eventProblem(event map[string]any) string {
	// The leaf is canonical: the number 1 is written "1".
	if v, ok := event["v"].(json.Number); !ok || v != "1" {
		return "version is not 1"
	}
	if id, ok := event["id"].(string); !ok || id == "" {
		return "no id"
	}
	if time, ok := event["time"].(string); !ok || !eventTimePattern.MatchString(time) {
		return "time is not UTC ISO 8601 with milliseconds"
	}
	if kind, ok := event["kind"].(string); !ok || kind == "" {
		return "no kind"
	}
	return ""
}
