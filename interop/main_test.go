package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
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

// startNode starts `node script args...` in dir (testdata with its
// node_modules), its standard error on the test's, and returns the command
// and its standard output. The caller waits for it.
func startNode(t *testing.T, ctx context.Context, dir, script string, args ...string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout
}

// jsonLines decodes each line of r as an E onto the returned channel,
// which closes at the end of r; a line that is not one fails the test.
func jsonLines[E any](t *testing.T, r io.Reader) <-chan E {
	out := make(chan E, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var e E
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("node printed %q", sc.Text())
				continue
			}
			out <- e
		}
	}()
	return out
}
