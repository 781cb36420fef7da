package webpubsubtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// The exported event names are literals for go doc; they must stay the
// wire's.
func TestEventNamesAreTheWires(t *testing.T) {
	for got, want := range map[string]string{
		EventConnect: wire.CEEventConnect, EventConnected: wire.CEEventConnected, EventDisconnected: wire.CEEventDisconnected,
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

func TestRoundTripRefusesForeignURLs(t *testing.T) {
	tr := newUpstreamTransport(&Server{eventsCh: make(chan struct{})})
	for _, raw := range []string{"http://elsewhere.example/chat/connect", "http://" + eventsHost + "/no-event"} {
		req, err := http.NewRequest(http.MethodPost, raw, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "unexpected event handler URL") {
			t.Errorf("%s: %v, %v; want an error", raw, resp, err)
		}
	}
}

func TestRecordCloudEventWithoutContentType(t *testing.T) {
	s := &Server{eventsCh: make(chan struct{})}
	h := http.Header{}
	h.Set(wire.HeaderCEType, wire.CETypeConnected)
	h.Set(wire.HeaderCEEventName, wire.CEEventConnected)
	s.recordCloudEvent(h, []byte("{}"), http.StatusOK)
	if got := s.Events(); len(got) != 1 || got[0].DataType != wire.DataTypeJSON || !got[0].System {
		t.Errorf("events %+v, want one json system event", got)
	}
}
