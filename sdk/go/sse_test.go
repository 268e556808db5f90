package atomic

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

func TestServerSentEventsAreReadAsTheGatewayWritesThem(t *testing.T) {
	stream := ": keep-alive\n\nevent: request\ndata: {\"a\":1}\nid: 7\n\nevent: done\ndata: line one\r\ndata:line two\nid: 9\nretry: 1500\n\ndata: no type\n\n"
	reader := newEventReader(bufio.NewReader(strings.NewReader(stream)))
	var got []ServerSentEvent
	for {
		event, err := reader.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, event)
	}
	want := []ServerSentEvent{
		{Event: "request", Data: `{"a":1}`, ID: "7"},
		{Event: "done", Data: "line one\nline two", ID: "9", Retry: 1500},
		{Event: "message", Data: "no type", ID: "9"},
	}
	if len(got) != len(want) {
		t.Fatalf("want %d events, got %+v", len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: want %+v, got %+v", i, want[i], got[i])
		}
	}
}
