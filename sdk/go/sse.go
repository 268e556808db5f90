package atomic

import (
	"bufio"
	"encoding/json"
	"strconv"
	"strings"
)

// ServerSentEvent is one event of a stream (the WHATWG event stream format).
type ServerSentEvent struct {
	// Event is the event's type: progress or done for a task, the audit event's kind on GET /v1/events.
	Event string
	Data  string
	// ID is the last id the stream set: on GET /v1/events the event's index in the audit log, to resume after.
	ID    string
	Retry int
}

// JSON decodes the event's data into v.
func (e ServerSentEvent) JSON(v any) error {
	return json.Unmarshal([]byte(e.Data), v)
}

type eventReader struct {
	lines  *bufio.Reader
	lastID string
	// onLine hears of every line read (an idle timer is reset by it).
	onLine func()
}

func newEventReader(lines *bufio.Reader) *eventReader {
	return &eventReader{lines: lines, onLine: func() {}}
}

// next is the next event, or the read's error (io.EOF at the stream's end).
func (r *eventReader) next() (ServerSentEvent, error) {
	event, data, retry := "", []string(nil), 0
	for {
		line, err := r.lines.ReadString('\n')
		if err != nil {
			return ServerSentEvent{}, err
		}
		r.onLine()
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if data != nil {
				if event == "" {
					event = "message"
				}
				return ServerSentEvent{Event: event, Data: strings.Join(data, "\n"), ID: r.lastID, Retry: retry}, nil
			}
			event = ""
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: the gateway's keep-alive
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "event":
			event = value
		case "data":
			data = append(data, value)
		case "id":
			if !strings.ContainsRune(value, 0) {
				r.lastID = value
			}
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms >= 0 {
				retry = ms
			}
		}
	}
}
