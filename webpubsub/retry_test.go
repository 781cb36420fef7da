package webpubsub

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// statusSequence answers with the given statuses in order, then 200.
func statusSequence(f *fakeService, hdr http.Header, statuses ...int) *atomic.Int32 {
	var n atomic.Int32
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		for k, v := range hdr {
			w.Header()[k] = v
		}
		if i < len(statuses) {
			w.WriteHeader(statuses[i])
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return &n
}

func TestRetryPolicy(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		opts      RetryOptions
		hdr       http.Header
		statuses  []int
		call      func(c *Client) error
		wantTries int32
		wantErr   bool
	}{
		{"idempotent retried on 503", RetryOptions{}, nil, []int{503, 500}, func(c *Client) error { return c.AddUserToGroup(ctx, "g", "u") }, 3, false},
		{"idempotent gives up after 3 retries", RetryOptions{}, nil, []int{502, 504, 408, 500, 500}, func(c *Client) error { return c.CloseConnection(ctx, "c", nil) }, 4, true},
		{"HEAD retried", RetryOptions{}, nil, []int{500}, func(c *Client) error { _, err := c.UserExists(ctx, "u"); return err }, 2, false},
		{"not retried on 400", RetryOptions{}, nil, []int{400}, func(c *Client) error { return c.AddUserToGroup(ctx, "g", "u") }, 1, true},
		{"send not retried on 500", RetryOptions{}, nil, []int{500}, func(c *Client) error { return c.SendToAll(ctx, Text("x"), nil) }, 1, true},
		{"send not retried on 503 without Retry-After", RetryOptions{}, nil, []int{503}, func(c *Client) error { return c.SendToAll(ctx, Text("x"), nil) }, 1, true},
		{"send retried on 429", RetryOptions{}, nil, []int{429, 429}, func(c *Client) error { return c.SendToAll(ctx, Text("x"), nil) }, 3, false},
		{"send retried on 503 with Retry-After", RetryOptions{}, http.Header{"Retry-After": {"1"}}, []int{503}, func(c *Client) error { return c.SendToUser(ctx, "u", Text("x"), nil) }, 2, false},
		{"send retried when opted in", RetryOptions{RetryNonIdempotent: true}, nil, []int{500, 502}, func(c *Client) error { return c.SendToAll(ctx, Text("x"), nil) }, 3, false},
		{"close-all POST not retried", RetryOptions{}, nil, []int{504}, func(c *Client) error { return c.CloseAllConnections(ctx, nil) }, 1, true},
		{"retries disabled", RetryOptions{MaxRetries: -1}, nil, []int{503}, func(c *Client) error { return c.AddUserToGroup(ctx, "g", "u") }, 1, true},
		{"one retry", RetryOptions{MaxRetries: 1}, nil, []int{503, 503}, func(c *Client) error { return c.AddUserToGroup(ctx, "g", "u") }, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeService(t, "")
			c := newTestClient(t, f, WithRetry(tt.opts))
			n := statusSequence(f, tt.hdr, tt.statuses...)
			err := tt.call(c)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := n.Load(); got != tt.wantTries {
				t.Errorf("%d tries, want %d", got, tt.wantTries)
			}
			reqs := f.take()
			for i := 1; i < len(reqs); i++ {
				if reqs[i] != reqs[0] {
					t.Errorf("try %d differs: %+v vs %+v", i+1, reqs[i], reqs[0])
				}
			}
		})
	}
}

func TestRetryReplaysBodies(t *testing.T) {
	ctx := context.Background()
	f := newFakeService(t, "")
	c := newTestClient(t, f)
	seeker := strings.NewReader("XXstream body")
	_, _ = seeker.Seek(2, io.SeekStart) // replay starts where the reader was
	for _, msg := range []Message{Text("text body"), JSON([]int{1, 2}), Binary([]byte{1, 2, 3}), Stream("text/plain", seeker)} {
		statusSequence(f, nil, 429, 429)
		if err := c.SendToAll(ctx, msg, nil); err != nil {
			t.Fatal(err)
		}
		reqs := f.take()
		if len(reqs) != 3 || reqs[0] != reqs[1] || reqs[1] != reqs[2] || reqs[0].Body == "" {
			t.Errorf("%s: tries %+v", msg.ContentType(), reqs)
		}
		if msg.reader != nil && reqs[0].Body != "stream body" {
			t.Errorf("stream body %q", reqs[0].Body)
		}
	}

	// A reader that cannot seek is sent once; the failure says why.
	statusSequence(f, nil, 429)
	err := c.SendToAll(ctx, BinaryReader(io.MultiReader(strings.NewReader("once"))), nil)
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 429 {
		t.Errorf("one-shot stream: %v", err)
	}
	if reqs := f.take(); len(reqs) != 1 || reqs[0].Body != "once" {
		t.Errorf("one-shot stream tries: %+v", reqs)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// countingTransport counts round trips.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestRetryTransportErrors(t *testing.T) {
	ctx := context.Background()
	// Connection refused: the send certainly did not reach the service.
	ct := &countingTransport{next: http.DefaultTransport}
	c, err := NewClientFromConnectionString("Endpoint=http://"+closedAddr(t)+";AccessKey=k", "hub", WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	c.pipe.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	err = c.SendToAll(ctx, Text("x"), nil)
	if err == nil || ct.n.Load() != 4 || !notSent(err) {
		t.Errorf("refused: %v after %d tries", err, ct.n.Load())
	}
	if strings.Contains(err.Error(), "api-version") {
		t.Errorf("error repeats the query: %v", err)
	}

	// A connection reset after the request was written: sends stop,
	// idempotent calls retry.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_, _ = conn.Read(buf)
			_ = conn.Close()
		}
	}()
	ct = &countingTransport{next: &http.Transport{DisableKeepAlives: true}}
	c, _ = NewClientFromConnectionString("Endpoint=http://"+l.Addr().String()+";AccessKey=k", "hub", WithHTTPClient(&http.Client{Transport: ct}))
	c.pipe.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	if err := c.SendToAll(ctx, Text("x"), nil); err == nil || ct.n.Load() != 1 {
		t.Errorf("send after reset: %v after %d tries", err, ct.n.Load())
	}
	ct.n.Store(0)
	if err := c.AddUserToGroup(ctx, "g", "u"); err == nil || ct.n.Load() != 4 {
		t.Errorf("PUT after reset: %v after %d tries", err, ct.n.Load())
	}
	// With RetryNonIdempotent the reset would be retried, but a one-shot
	// stream cannot be sent again: one try, and the error says why.
	ct.n.Store(0)
	c, _ = NewClientFromConnectionString("Endpoint=http://"+l.Addr().String()+";AccessKey=k", "hub",
		WithHTTPClient(&http.Client{Transport: ct}), WithRetry(RetryOptions{RetryNonIdempotent: true}))
	c.pipe.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	err = c.SendToAll(ctx, BinaryReader(io.MultiReader(strings.NewReader("x"))), nil)
	if !errors.Is(err, errBodyNotReplayable) || ct.n.Load() != 1 {
		t.Errorf("one-shot stream after reset: %v after %d tries", err, ct.n.Load())
	}
	ct.n.Store(0)
	if err := c.SendToAll(ctx, Text("x"), nil); errors.Is(err, errBodyNotReplayable) || ct.n.Load() != 4 {
		t.Errorf("opted-in send after reset: %v after %d tries", err, ct.n.Load())
	}
}

func TestRetryWaitStopsOnCancel(t *testing.T) {
	f := newFakeService(t, "")
	c := newTestClient(t, f)
	c.pipe.sleep = sleepCtx
	statusSequence(f, http.Header{"Retry-After": {"30"}}, 503, 503)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.AddUserToGroup(ctx, "g", "u")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %v after cancel", d)
	}
	f.take()
}

func TestRetryDelays(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := RetryOptions{}.resolved()
	if o.MaxRetries != 3 || o.RetryDelay != 800*time.Millisecond || o.MaxRetryDelay != time.Minute {
		t.Errorf("defaults %+v", o)
	}
	for n := 1; n <= 10; n++ {
		base := min(800*time.Millisecond<<(n-1), time.Minute)
		d := o.delay(n, nil, now)
		if d < base*8/10 || d > min(base*12/10, time.Minute) {
			t.Errorf("retry %d: delay %v outside jitter range of %v", n, d, base)
		}
	}
	resp := func(k, v string) *http.Response {
		return &http.Response{Header: http.Header{http.CanonicalHeaderKey(k): {v}}}
	}
	tests := []struct {
		resp *http.Response
		want time.Duration
	}{
		{resp("Retry-After", "7"), 7 * time.Second},
		{resp("Retry-After", "3600"), time.Minute},
		{resp("Retry-After", now.Add(10*time.Second).Format(http.TimeFormat)), 10 * time.Second},
		{resp("Retry-After", now.Add(-10*time.Second).Format(http.TimeFormat)), 0},
		{resp("retry-after-ms", "250"), 250 * time.Millisecond},
		{resp("x-ms-retry-after-ms", "100"), 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := o.delay(1, tt.resp, now); got != tt.want {
			t.Errorf("%v: delay %v, want %v", tt.resp.Header, got, tt.want)
		}
	}
	for _, bad := range []string{"-1", "soon"} {
		if d := o.delay(1, resp("Retry-After", bad), now); d < 640*time.Millisecond || d > 960*time.Millisecond {
			t.Errorf("Retry-After %q: delay %v, want the computed one", bad, d)
		}
	}
	if o := (RetryOptions{MaxRetries: -5}).resolved(); o.MaxRetries != 0 {
		t.Errorf("negative MaxRetries resolved to %d", o.MaxRetries)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := sleepCtx(ctx, time.Millisecond); err != nil {
		t.Error(err)
	}
	cancel()
	if err := sleepCtx(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
}

func TestStreamContentLength(t *testing.T) {
	var lengths []int64
	var te []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lengths = append(lengths, r.ContentLength)
		te = append(te, strings.Join(r.TransferEncoding, ","))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c, _ := NewClientFromConnectionString("Endpoint="+srv.URL+";AccessKey=k", "hub")
	seeker := strings.NewReader("0123456789")
	_, _ = seeker.Seek(4, io.SeekStart)
	ctx := context.Background()
	for _, m := range []Message{Stream("text/plain", seeker), BinaryReader(strings.NewReader("")), BinaryReader(io.MultiReader(strings.NewReader("abc")))} {
		if err := c.SendToAll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int64{6, 0, -1}; !slices.Equal(lengths, want) || te[2] != "chunked" {
		t.Errorf("lengths %v (want %v), transfer encodings %q", lengths, want, te)
	}
}
