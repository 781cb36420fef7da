package leakcheck

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLeakedFindsAndForgets(t *testing.T) {
	before := Take()
	stop := make(chan struct{})
	go func() { <-stop }() // the leak under test
	leaked := before.Leaked(50 * time.Millisecond)
	if len(leaked) != 1 || !strings.Contains(leaked[0].Stack, "TestLeakedFindsAndForgets") {
		t.Fatalf("leaked = %+v, want the one goroutine this test started", leaked)
	}
	var out bytes.Buffer
	if err := Report(&out, leaked); err == nil || !strings.Contains(out.String(), "TestLeakedFindsAndForgets") {
		t.Errorf("Report = %v, output %q", err, out.String())
	}
	close(stop)
	if leaked := before.Leaked(Settle); len(leaked) != 0 {
		t.Errorf("after the goroutine ended: %+v", leaked)
	}
	if err := Report(&out, nil); err != nil {
		t.Errorf("Report(nil) = %v", err)
	}
}

func TestLeakedWaitsForSlowExit(t *testing.T) {
	before := Take()
	go time.Sleep(100 * time.Millisecond)
	if leaked := before.Leaked(Settle); len(leaked) != 0 {
		t.Errorf("a goroutine that ends within the settle time was reported: %+v", leaked)
	}
}

type fakeM struct {
	code int
	leak bool
	stop chan struct{}
}

func (m *fakeM) Run() int {
	if m.leak {
		go func() { <-m.stop }()
	}
	return m.code
}

func TestMainExitCodes(t *testing.T) {
	defer func(d time.Duration) { mainSettle = d }(mainSettle)
	mainSettle = 100 * time.Millisecond
	if got := Main(&fakeM{code: 3}); got != 3 {
		t.Errorf("failing run: %d, want 3", got)
	}
	if got := Main(&fakeM{}); got != 0 {
		t.Errorf("clean run: %d, want 0", got)
	}
	m := &fakeM{leak: true, stop: make(chan struct{})}
	defer close(m.stop)
	if got := Main(m); got != 1 {
		t.Errorf("leaking run: %d, want 1", got)
	}
}

func TestParse(t *testing.T) {
	g, ok := parse("goroutine 42 [chan receive]:\nmain.f()\n")
	if !ok || g.ID != 42 {
		t.Errorf("parse = %+v, %v", g, ok)
	}
	for _, bad := range []string{"", "goroutine", "goroutine x [running]:", "not a stack"} {
		if _, ok := parse(bad); ok {
			t.Errorf("parse(%q) ok", bad)
		}
	}
}
