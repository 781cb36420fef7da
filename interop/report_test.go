package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// envReport names a file to which TestMain writes one line saying whether
// the interop tests ran or were skipped, and why. `make test` sets it and
// prints the line, since go test shows nothing of a passing package.
const envReport = "INTEROP_REPORT"

// report counts the interop tests that ran and those that were skipped,
// with the reasons.
var report struct {
	mu      sync.Mutex
	ran     int
	skipped int
	reasons map[string]bool
}

// track counts t when it ends, as run or skipped.
func track(t *testing.T) {
	t.Cleanup(func() {
		report.mu.Lock()
		defer report.mu.Unlock()
		if t.Skipped() {
			report.skipped++
			return
		}
		report.ran++
	})
}

// skipInterop skips t for a missing tool, remembering the reason for the
// report.
func skipInterop(t *testing.T, reason string, details ...any) {
	t.Helper()
	report.mu.Lock()
	if report.reasons == nil {
		report.reasons = map[string]bool{}
	}
	report.reasons[reason] = true
	report.mu.Unlock()
	t.Skip(append([]any{reason}, details...)...)
}

// npmCI installs the pinned packages of dir, or skips t when npm is
// missing or fails (offline).
func npmCI(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		skipInterop(t, "npm is not installed: install it with Node.js")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		skipInterop(t, "npm ci failed: no access to the npm registry?", err, "\n", string(out))
	}
}

// reportLine is the line TestMain writes to $INTEROP_REPORT.
func reportLine() string {
	report.mu.Lock()
	defer report.mu.Unlock()
	if report.skipped == 0 {
		return fmt.Sprintf("interop tests against the official JavaScript packages: %d ran", report.ran)
	}
	reasons := make([]string, 0, len(report.reasons))
	for r := range report.reasons {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	return fmt.Sprintf("interop tests against the official JavaScript packages: %d SKIPPED (%s), %d ran",
		report.skipped, strings.Join(reasons, "; "), report.ran)
}

// writeReport writes reportLine to $INTEROP_REPORT when it is set.
func writeReport() error {
	path := os.Getenv(envReport)
	if path == "" {
		return nil
	}
	return os.WriteFile(path, []byte(reportLine()+"\n"), 0o600)
}

func TestReportLine(t *testing.T) {
	report.mu.Lock()
	ran, skipped, reasons := report.ran, report.skipped, report.reasons
	report.mu.Unlock()
	defer func() {
		report.mu.Lock()
		report.ran, report.skipped, report.reasons = ran, skipped, reasons
		report.mu.Unlock()
	}()
	tests := []struct {
		ran, skipped int
		reasons      []string
		want         string
	}{
		{5, 0, nil, "interop tests against the official JavaScript packages: 5 ran"},
		{0, 5, []string{"node is not installed: install Node.js 20 or later"},
			"interop tests against the official JavaScript packages: 5 SKIPPED (node is not installed: install Node.js 20 or later), 0 ran"},
		{3, 2, []string{"npm ci failed", "-short mode"},
			"interop tests against the official JavaScript packages: 2 SKIPPED (-short mode; npm ci failed), 3 ran"},
	}
	for _, tt := range tests {
		report.mu.Lock()
		report.ran, report.skipped, report.reasons = tt.ran, tt.skipped, map[string]bool{}
		for _, r := range tt.reasons {
			report.reasons[r] = true
		}
		report.mu.Unlock()
		if got := reportLine(); got != tt.want {
			t.Errorf("reportLine() = %q, want %q", got, tt.want)
		}
	}
}
