package webpubsub_test

// Reliability tests: every retryable status and every transport fault on
// every kind of operation, against the in-process service
// (webpubsubtest) and the raw TCP fault proxy (internal/faultproxy).
// Deliveries of sends are counted on a real WebSocket client. The figures
// are summarised in docs/RELIABILITY.md.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/faultproxy"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// tryRecorder is the HTTP transport of the client under test: it counts
// tries (one connection each), checks the JWT of every try (HS256 with the
// service's key, aud the exact request URL, exp within five minutes) and
// can react to a refused dial.
type tryRecorder struct {
	key       string
	tries     atomic.Int32
	onRefused atomic.Pointer[func()]
	transport *http.Transport

	mu       sync.Mutex
	problems []string
}

func newTryRecorder(t *testing.T, key string) *tryRecorder {
	r := &tryRecorder{key: key}
	d := &net.Dialer{Timeout: 2 * time.Second}
	r.transport = &http.Transport{
		DisableKeepAlives: true, // one try, one connection: the fault proxy scripts tries
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if errors.Is(err, syscall.ECONNREFUSED) {
				if f := r.onRefused.Load(); f != nil {
					(*f)()
				}
			}
			return c, err
		},
	}
	t.Cleanup(r.transport.CloseIdleConnections)
	return r
}

func (r *tryRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.tries.Add(1)
	if err := r.checkToken(req); err != nil {
		r.mu.Lock()
		r.problems = append(r.problems, fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err))
		r.mu.Unlock()
	}
	return r.transport.RoundTrip(req)
}

func (r *tryRecorder) checkToken(req *http.Request) error {
	auth := req.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return errors.New("no bearer token")
	}
	now := time.Now()
	tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return []byte(r.key), nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithAudience(req.URL.String()),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return err
	}
	exp, err := tok.Claims.GetExpirationTime()
	if err != nil || exp.Sub(now) > 5*time.Minute+time.Second {
		return fmt.Errorf("exp %v is more than five minutes away", exp)
	}
	return nil
}

func (r *tryRecorder) takeProblems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.problems
	r.problems = nil
	return p
}

// fastRetry retries quickly so the matrix runs in well under a second per
// case; MaxRetryDelay also caps Retry-After.
var fastRetry = webpubsub.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 10 * time.Millisecond}

// relOp is one kind of operation of the matrix.
type relOp struct {
	name       string
	operation  string // the service's operation name
	idempotent bool
	send       bool // delivers a message to the listener
	call       func(ctx context.Context, c *webpubsub.Client, connID, payload string) error
}

var relOps = []relOp{
	{"send POST", "SendToGroup", false, true, func(ctx context.Context, c *webpubsub.Client, _, payload string) error {
		return c.SendToGroup(ctx, "room", webpubsub.Text(payload), nil)
	}},
	{"other POST", "AddConnectionsToGroups", false, false, func(ctx context.Context, c *webpubsub.Client, _, _ string) error {
		return c.AddConnectionsToGroups(ctx, []string{"lobby"}, "userId eq 'listener'")
	}},
	{"GET list", "ListConnectionsInGroup", true, false, func(ctx context.Context, c *webpubsub.Client, connID, _ string) error {
		found := false
		for m, err := range c.ListConnectionsInGroup(ctx, "room", nil) {
			if err != nil {
				return err
			}
			found = found || m.ConnectionID == connID
		}
		if !found {
			return errors.New("the listener is missing from the list")
		}
		return nil
	}},
	{"HEAD exists", "ConnectionExists", true, false, func(ctx context.Context, c *webpubsub.Client, connID, _ string) error {
		ok, err := c.ConnectionExists(ctx, connID)
		if err == nil && !ok {
			return errors.New("the listener's connection does not exist")
		}
		return err
	}},
	{"PUT add", "AddConnectionToGroup", true, false, func(ctx context.Context, c *webpubsub.Client, connID, _ string) error {
		return c.AddConnectionToGroup(ctx, "extra", connID)
	}},
	{"DELETE remove", "RemoveConnectionFromGroup", true, false, func(ctx context.Context, c *webpubsub.Client, connID, _ string) error {
		return c.RemoveConnectionFromGroup(ctx, "extra", connID)
	}},
}

// relFault is one fault of the matrix, applied to the first try only.
type relFault struct {
	name string
	// status faults, answered by webpubsubtest before the service acts.
	status     int
	retryAfter bool
	drop       bool
	// transport faults of the raw proxy.
	refuse bool
	proxy  faultproxy.Mode
	// sendRetried: a send is retried without RetryNonIdempotent.
	sendRetried bool
	// served: the service acted on the failed try (a send was delivered).
	served bool
}

var relFaults = []relFault{
	{name: "408", status: 408},
	{name: "429", status: 429, sendRetried: true},
	{name: "500", status: 500},
	{name: "502", status: 502},
	{name: "503", status: 503},
	{name: "503 Retry-After", status: 503, retryAfter: true, sendRetried: true},
	{name: "504", status: 504},
	{name: "dropped by the service", drop: true},
	{name: "refused", refuse: true, sendRetried: true},
	{name: "reset mid-request", proxy: faultproxy.ResetRequest},
	{name: "reset mid-response", proxy: faultproxy.ResetResponse, served: true},
	{name: "truncated", proxy: faultproxy.Truncate, served: true},
}

// relEnv is one service with a listener in group "room" and a proxy in
// front of it.
type relEnv struct {
	srv      *webpubsubtest.Server
	listener *webpubsubtest.Conn
	proxy    *faultproxy.Proxy
	marker   *webpubsub.Client // talks to the service directly, never faulted
	seq      atomic.Int32
}

func newRelEnv(t *testing.T) *relEnv {
	t.Helper()
	srv := webpubsubtest.NewServer(t)
	p, err := faultproxy.New(strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return &relEnv{
		srv:      srv,
		listener: srv.Connect(t, "hub", "listener", webpubsubtest.WithGroups("room")),
		proxy:    p,
		marker:   srv.Client(t, "hub"),
	}
}

// client returns a client of the proxy whose every try is recorded.
func (e *relEnv) client(t *testing.T, retry webpubsub.RetryOptions) (*webpubsub.Client, *tryRecorder) {
	t.Helper()
	rec := newTryRecorder(t, e.srv.AccessKey())
	c, err := webpubsub.NewClientFromConnectionString("Endpoint=http://"+e.proxy.Addr()+";AccessKey="+e.srv.AccessKey()+";Version=1.0;", "hub",
		webpubsub.WithHTTPClient(&http.Client{Transport: rec}), webpubsub.WithRetry(retry))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// deliveries sends a marker after the payload and counts how often the
// listener received payload before the marker arrived.
func (e *relEnv) deliveries(t *testing.T, payload string) int {
	t.Helper()
	marker := fmt.Sprintf("marker-%d", e.seq.Add(1))
	if err := e.marker.SendToGroup(context.Background(), "room", webpubsub.Text(marker), nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		m := e.listener.Next(t)
		switch m.Text() {
		case marker:
			return n
		case payload:
			n++
		}
	}
}

// inject arranges f for the next try of op.
func (e *relEnv) inject(f relFault, op relOp) {
	switch {
	case f.status != 0 || f.drop:
		var ra time.Duration
		if f.retryAfter {
			ra = time.Second // capped by MaxRetryDelay in the matrix
		}
		e.srv.InjectFault(webpubsubtest.Fault{Operation: op.operation, Status: f.status, RetryAfter: ra, Drop: f.drop})
	case f.refuse:
		e.proxy.Refuse()
	default:
		e.proxy.Inject(faultproxy.Fault{Mode: f.proxy})
	}
}

// TestFaultMatrix runs every fault of relFaults on the first try of every
// operation of relOps, with the default policy and with RetryNonIdempotent,
// and checks the number of tries, the outcome, the JWT of every try and,
// for sends, the number of deliveries.
func TestFaultMatrix(t *testing.T) {
	e := newRelEnv(t)
	connID := e.listener.ConnectionID()
	for _, optIn := range []bool{false, true} {
		retry := fastRetry
		retry.RetryNonIdempotent = optIn
		for _, op := range relOps {
			for _, f := range relFaults {
				t.Run(fmt.Sprintf("optIn=%v/%s/%s", optIn, op.name, f.name), func(t *testing.T) {
					c, rec := e.client(t, retry)
					if f.refuse {
						reopen := func() { _ = e.proxy.Accept() }
						rec.onRefused.Store(&reopen)
					}
					wantRetry := op.idempotent || optIn || f.sendRetried
					payload := fmt.Sprintf("payload-%d", e.seq.Add(1))
					e.inject(f, op)
					err := op.call(context.Background(), c, connID, payload)
					e.srv.ClearFaults()
					if e.proxy.Pending() != 0 {
						t.Fatalf("the proxy fault was not used")
					}

					wantTries := int32(1)
					if wantRetry {
						wantTries = 2
					}
					if got := rec.tries.Load(); got != wantTries {
						t.Errorf("%d tries, want %d", got, wantTries)
					}
					if wantRetry && err != nil {
						t.Errorf("retried call failed: %v", err)
					}
					if !wantRetry && err == nil {
						t.Errorf("a call that must not be retried reported success after a %s", f.name)
					}
					if err != nil && errors.Is(err, webpubsub.ErrInvalidArgument) {
						t.Errorf("a fault is reported as an invalid argument: %v", err)
					}
					for _, p := range rec.takeProblems() {
						t.Errorf("bad token on a try: %s", p)
					}
					if op.send {
						want := 0
						if f.served {
							want++
						}
						if wantRetry {
							want++
						}
						if got := e.deliveries(t, payload); got != want {
							t.Errorf("delivered %d times, want %d (err %v)", got, want, err)
						}
						if want > 1 && !optIn {
							t.Errorf("a send was duplicated without RetryNonIdempotent")
						}
					}
				})
			}
		}
	}
}

// TestRetryAfterHonoured checks that the wait before a retry is the
// service's Retry-After, not the computed delay.
func TestRetryAfterHonoured(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	c := srv.Client(t, "hub", webpubsub.WithRetry(webpubsub.RetryOptions{RetryDelay: time.Millisecond}))
	for _, status := range []int{429, 503} {
		srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Status: status, RetryAfter: time.Second})
		start := time.Now()
		if err := c.SendToAll(context.Background(), webpubsub.Text("x"), nil); err != nil {
			t.Fatal(err)
		}
		waited := time.Since(start)
		if waited < 900*time.Millisecond || waited > 5*time.Second {
			t.Errorf("%d with Retry-After: 1: retried after %v, want about 1 s", status, waited)
		}
		t.Logf("%d Retry-After 1 s: retried after %v", status, waited.Round(time.Millisecond))
	}
	if got := len(srv.RequestsFor("SendToAll")); got != 4 {
		t.Errorf("%d requests, want 4", got)
	}
}

// TestCancelStopsRetries measures how fast a call returns after its
// context is cancelled: while waiting out a long Retry-After, while the
// service is slow (past the deadline) and while the proxy holds the
// connection. Timing assertions are loose (1 s); the measured figures are
// logged for docs/RELIABILITY.md.
func TestCancelStopsRetries(t *testing.T) {
	e := newRelEnv(t)
	c, _ := e.client(t, webpubsub.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Minute})
	connID := e.listener.ConnectionID()
	cases := []struct {
		name  string
		setup func()
	}{
		{"waiting for Retry-After: 30", func() {
			e.srv.InjectFault(webpubsubtest.Fault{Operation: "AddConnectionToGroup", Status: 503, RetryAfter: 30 * time.Second})
		}},
		{"slow service", func() {
			e.srv.InjectFault(webpubsubtest.Fault{Operation: "AddConnectionToGroup", Delay: 30 * time.Second})
		}},
		{"slow network", func() { e.proxy.Inject(faultproxy.Fault{Mode: faultproxy.Delay, Delay: 30 * time.Second}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			defer e.srv.ClearFaults()
			ctx, cancel := context.WithCancel(context.Background())
			var cancelled time.Time
			timer := time.AfterFunc(100*time.Millisecond, func() { cancelled = time.Now(); cancel() })
			defer timer.Stop()
			err := c.AddConnectionToGroup(ctx, "g", connID)
			after := time.Since(cancelled)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if after > time.Second {
				t.Errorf("returned %v after cancel", after)
			}
			t.Logf("returned %v after cancel", after.Round(10*time.Microsecond))
		})
	}
	// A deadline behaves the same.
	e.proxy.Inject(faultproxy.Fault{Mode: faultproxy.Delay, Delay: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ConnectionExists(ctx, connID)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 1100*time.Millisecond {
		t.Errorf("deadline: %v after %v", err, time.Since(start))
	}
	t.Logf("deadline of 100 ms: returned after %v", time.Since(start).Round(10*time.Microsecond))
}

// countingCredential is an Entra credential that is slow, and fails when
// err is set.
type countingCredential struct {
	calls, running, maxRunning atomic.Int32
	delay                      time.Duration
	err                        error
}

func (c *countingCredential) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls.Add(1)
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for m := c.maxRunning.Load(); n > m && !c.maxRunning.CompareAndSwap(m, n); m = c.maxRunning.Load() {
	}
	select {
	case <-time.After(c.delay):
	case <-ctx.Done():
		return azcore.AccessToken{}, ctx.Err()
	}
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: "entra-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestEntraSourceFailingOrSlow runs 100 concurrent calls against a token
// source that fails, and one that is slower than the callers' deadline:
// every call gets a clear error, and the source is not stampeded.
func TestEntraSourceFailingOrSlow(t *testing.T) {
	var served atomic.Int32
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer svc.Close()
	run := func(cred *countingCredential, timeout time.Duration) []error {
		c, err := webpubsub.NewClient(svc.URL, "hub", cred, webpubsub.WithRetry(fastRetry))
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 100)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				errs[i] = c.SendToAll(ctx, webpubsub.Text("x"), nil)
			})
		}
		wg.Wait()
		return errs
	}

	failing := &countingCredential{delay: 100 * time.Millisecond, err: errors.New("AADSTS700016: application not found")}
	for i, err := range run(failing, 5*time.Second) {
		if err == nil || !errors.Is(err, failing.err) || !strings.Contains(err.Error(), "Microsoft Entra ID token") {
			t.Fatalf("call %d: %v, want the credential's error, explained", i, err)
		}
	}
	if n := failing.calls.Load(); n > 5 || failing.maxRunning.Load() != 1 {
		t.Errorf("100 concurrent calls asked a failing credential %d times", n)
	}
	t.Logf("failing credential: 100 calls failed with its error after %d token requests", failing.calls.Load())

	slow := &countingCredential{delay: 500 * time.Millisecond}
	start := time.Now()
	for i, err := range run(slow, 100*time.Millisecond) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: %v, want context.DeadlineExceeded", i, err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("callers with a 100 ms deadline waited %v for a slow credential", d)
	}
	// The refresh runs detached from the callers' contexts, so callers
	// giving up one after another do not each start a token request.
	if n, m := slow.calls.Load(), slow.maxRunning.Load(); n != 1 || m != 1 {
		t.Errorf("100 concurrent calls asked a slow credential %d times, %d at once", n, m)
	}
	t.Logf("slow credential: 100 calls with a 100 ms deadline returned after %v; %d token request(s)", time.Since(start).Round(time.Millisecond), slow.calls.Load())
	// The detached refresh finishes and the next call uses its token.
	for slow.running.Load() != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if n := served.Load(); n != 0 {
		t.Errorf("%d requests reached the service without a token", n)
	}
}

// TestKeyRotationUnderLoad rotates the access key while 100 goroutines
// send. The service accepts the old and the new key during the rotation,
// as Azure does with a primary and a secondary key, so no call may fail.
func TestKeyRotationUnderLoad(t *testing.T) {
	const oldKey, newKey = "old-key-0123456789abcdefghijklmnopqrstuv", "new-key-0123456789abcdefghijklmnopqrstuv"
	emu, err := emulator.New(emulator.WithAccessKeys(oldKey, newKey), emulator.WithKeepAlive(0))
	if err != nil {
		t.Fatal(err)
	}
	svc := httptest.NewServer(emu.Handler())
	defer svc.Close()
	defer emu.Close()
	key, err := webpubsub.NewKeyCredential(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := webpubsub.NewClientWithKey(svc.URL, "hub", key, webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	const senders, perSender = 100, 6
	var sent, failed atomic.Int32
	var wg sync.WaitGroup
	rotated := make(chan struct{})
	var rotateOnce sync.Once
	rotate := func() { rotateOnce.Do(func() { close(rotated) }) }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer func() { rotate(); wg.Wait() }() // no sender is left waiting when the test fails early
	for g := range senders {
		wg.Go(func() {
			for i := range perSender {
				if i == perSender/2 {
					<-rotated
				}
				if failed.Load() > 0 { // one failure says it all; stop the load
					return
				}
				if err := c.SendToUser(ctx, fmt.Sprintf("user-%d", g), webpubsub.Text("x"), nil); err != nil {
					if failed.Add(1) <= 3 {
						t.Errorf("sender %d, send %d: %v", g, i, err)
					}
					return
				}
				sent.Add(1)
			}
		})
	}
	// Rotate once a quarter of the sends went through; stop waiting as soon
	// as a send fails (then the quarter may never come) or at the deadline.
	for sent.Load() < senders*perSender/4 {
		if failed.Load() > 0 {
			t.Fatalf("%d sends failed before the rotation (%d sent)", failed.Load(), sent.Load())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d sends before the rotation went through in 30s", sent.Load(), senders*perSender/4)
		case <-time.After(time.Millisecond):
		}
	}
	if err := key.Update(newKey); err != nil {
		t.Fatal(err)
	}
	rotate()
	wg.Wait()
	if sent.Load() != senders*perSender || failed.Load() != 0 {
		t.Errorf("%d sent, %d failed", sent.Load(), failed.Load())
	}
	// Once the rotation is over and the old key is retired, the client
	// signs with the new key only.
	emu2, err := emulator.New(emulator.WithAccessKeys(newKey), emulator.WithKeepAlive(0))
	if err != nil {
		t.Fatal(err)
	}
	svc2 := httptest.NewServer(emu2.Handler())
	defer svc2.Close()
	defer emu2.Close()
	c2, _ := webpubsub.NewClientWithKey(svc2.URL, "hub", key)
	if err := c2.SendToAll(context.Background(), webpubsub.Text("x"), nil); err != nil {
		t.Errorf("after retiring the old key: %v", err)
	}
}

// TestSlowServiceEveryOperation holds every kind of operation past its
// deadline: each returns context.DeadlineExceeded after one try, soon
// after the deadline, and a send held this way is never delivered (the
// service drops the request when the client goes away).
func TestSlowServiceEveryOperation(t *testing.T) {
	e := newRelEnv(t)
	c, rec := e.client(t, fastRetry)
	connID := e.listener.ConnectionID()
	for _, op := range relOps {
		t.Run(op.name, func(t *testing.T) {
			rec.tries.Store(0)
			e.srv.InjectFault(webpubsubtest.Fault{Operation: op.operation, Delay: 30 * time.Second})
			defer e.srv.ClearFaults()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			payload := fmt.Sprintf("slow-%d", e.seq.Add(1))
			start := time.Now()
			err := op.call(ctx, c, connID, payload)
			late := time.Since(start) - 50*time.Millisecond
			if !errors.Is(err, context.DeadlineExceeded) || late > time.Second {
				t.Errorf("err %v, %v after the deadline", err, late)
			}
			if n := rec.tries.Load(); n != 1 {
				t.Errorf("%d tries after the deadline passed, want 1", n)
			}
			if op.send {
				if n := e.deliveries(t, payload); n != 0 {
					t.Errorf("a send that timed out was delivered %d times", n)
				}
			}
			t.Logf("returned %v after the deadline", late.Round(10*time.Microsecond))
		})
	}
}
