package webpubsubtest

import (
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
