package interop

import (
	"os"
	"testing"

	"github.com/webpubsub-go/sdk/internal/leakcheck"
)

// TestMain fails the binary when a test leaves a goroutine behind.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
