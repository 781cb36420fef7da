// Package leakcheck finds goroutines that outlive a test binary's tests.
//
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
//
// Main records the goroutines that exist before the tests, runs them, then
// waits up to Settle for goroutines started by the tests to end. Any that
// are still running fail the binary, and their stacks are printed.
package leakcheck

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Settle is how long Main and Check wait for goroutines to end before
// reporting them as leaked.
const Settle = 2 * time.Second

// ignored are stack fragments of goroutines that belong to the runtime or
// the testing package, not to the code under test.
var ignored = []string{
	"testing.(*M).",
	"testing.tRunner(",
	"testing.runTests",
	"testing.(*T).Run(",
	"testing.(*F).Fuzz(",
	"testing.RunTests(",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
}

// Goroutine is one goroutine from a stack dump.
type Goroutine struct {
	ID    int64
	Stack string // the goroutine's whole block of the dump
}

// Snapshot is the set of goroutines that existed at one moment.
type Snapshot map[int64]bool

// Take records the goroutines that exist now.
func Take() Snapshot {
	s := Snapshot{}
	for _, g := range All() {
		s[g.ID] = true
	}
	return s
}

// All returns every goroutine but the caller's.
func All() []Goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	blocks := bytes.Split(buf, []byte("\n\n"))
	gs := make([]Goroutine, 0, len(blocks))
	for i, b := range blocks {
		if i == 0 {
			continue // runtime.Stack puts the calling goroutine first
		}
		if g, ok := parse(string(b)); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// parse reads "goroutine 12 [running]:\n..." into a Goroutine.
func parse(block string) (Goroutine, bool) {
	block = strings.TrimSpace(block)
	rest, ok := strings.CutPrefix(block, "goroutine ")
	if !ok {
		return Goroutine{}, false
	}
	idText, _, ok := strings.Cut(rest, " ")
	if !ok {
		return Goroutine{}, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return Goroutine{}, false
	}
	return Goroutine{ID: id, Stack: block}, true
}

// isIgnored reports whether g belongs to the runtime or the test framework.
func isIgnored(g Goroutine) bool {
	for _, frag := range ignored {
		if strings.Contains(g.Stack, frag) {
			return true
		}
	}
	return false
}

// Leaked returns the goroutines that did not exist in s and are still
// running after waiting up to settle for them to end, sorted by id.
func (s Snapshot) Leaked(settle time.Duration) []Goroutine {
	deadline := time.Now().Add(settle)
	delay := time.Millisecond
	for {
		var leaked []Goroutine
		for _, g := range All() {
			if !s[g.ID] && !isIgnored(g) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			slices.SortFunc(leaked, func(a, b Goroutine) int { return int(a.ID - b.ID) })
			return leaked
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// Report writes the leaked goroutines' stacks to w in a form a person can
// act on, and returns an error naming how many leaked; nil if none.
func Report(w io.Writer, leaked []Goroutine) error {
	if len(leaked) == 0 {
		return nil
	}
	fmt.Fprintf(w, "leakcheck: %d goroutine(s) still running %v after the tests ended:\n\n", len(leaked), Settle)
	for _, g := range leaked {
		fmt.Fprintf(w, "%s\n\n", g.Stack)
	}
	return fmt.Errorf("leakcheck: %d goroutine(s) leaked", len(leaked))
}

// mainSettle is the settle time of Main; tests of this package shorten it.
var mainSettle = Settle

// Runner is what Main runs; *testing.M is one.
type Runner interface{ Run() int }

// Main runs m and returns its exit code, or 1 when m passed but left
// goroutines running. Pass the result to os.Exit.
func Main(m Runner) int {
	before := Take()
	code := m.Run()
	if code != 0 {
		return code // the failures already explain themselves
	}
	if err := Report(os.Stderr, before.Leaked(mainSettle)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}
