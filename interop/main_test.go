package interop

import (
	"fmt"
	"os"
	"testing"

	"github.com/webpubsub-go/sdk/internal/leakcheck"
)

// TestMain fails the binary when a test leaves a goroutine behind, and
// writes whether the tests ran or were skipped to $INTEROP_REPORT.
func TestMain(m *testing.M) {
	code := leakcheck.Main(m)
	if err := writeReport(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: %s: %v\n", envReport, err)
		code = 1
	}
	os.Exit(code)
}
