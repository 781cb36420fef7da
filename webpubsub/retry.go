package webpubsub

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// RetryOptions configures how the client retries a failed try. The zero
// value means the defaults of the Azure SDKs: 3 retries, 800 ms initial
// delay, 60 s maximum delay.
//
// Retried: HTTP 408, 429, 500, 502, 503 and 504, and transport errors.
// Delays grow exponentially with random jitter; a Retry-After header
// (seconds or an HTTP date) replaces the computed delay, capped at
// MaxRetryDelay. Cancelling the context stops the wait at once.
//
// Operations that are idempotent (GET, HEAD, PUT, DELETE) retry freely.
// Sends and the other POST operations are not idempotent: a send retried
// after a timeout may be delivered twice. They are retried only when the
// request certainly did not reach the service (the connection could not be
// opened, or the service answered 429, or 503 with Retry-After), unless
// RetryNonIdempotent is set.
type RetryOptions struct {
	// MaxRetries is the number of retries after the first try. 0 means 3;
	// a negative value disables retries.
	MaxRetries int
	// RetryDelay is the delay before the first retry; later delays double.
	// 0 means 800 ms.
	RetryDelay time.Duration
	// MaxRetryDelay caps every delay, Retry-After included. 0 means 60 s.
	MaxRetryDelay time.Duration
	// RetryNonIdempotent lets sends and other POST operations retry on
	// every retryable status and transport error, accepting that a message
	// may be delivered more than once.
	RetryNonIdempotent bool
}

// Retry defaults, as in azcore.
const (
	defaultMaxRetries    = 3
	defaultRetryDelay    = 800 * time.Millisecond
	defaultMaxRetryDelay = 60 * time.Second
)

// resolved returns o with defaults filled in.
func (o RetryOptions) resolved() RetryOptions {
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = defaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = defaultRetryDelay
	}
	if o.MaxRetryDelay == 0 {
		o.MaxRetryDelay = defaultMaxRetryDelay
	}
	return o
}

// idempotentMethod reports whether a request with method m may be repeated
// without changing the outcome.
func idempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// shouldRetryStatus decides whether a response with status code is retried.
func (o *RetryOptions) shouldRetryStatus(resp *http.Response, idempotent bool) bool {
	free := idempotent || o.RetryNonIdempotent
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return free || resp.Header.Get(wire.HeaderRetryAfter) != ""
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return free
	}
	return false
}

// shouldRetryError decides whether a transport error is retried.
func (o *RetryOptions) shouldRetryError(err error, idempotent bool) bool {
	var re *redirectError
	if errors.As(err, &re) {
		return false // the same redirect again
	}
	return idempotent || o.RetryNonIdempotent || notSent(err)
}

// notSent reports whether err shows the request never reached the service:
// a DNS failure, a refused connection or any other dial error.
func notSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// delay returns the wait before retry number n (1-based), honouring
// Retry-After on resp.
func (o *RetryOptions) delay(n int, resp *http.Response, now time.Time) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header, now); ok {
			return min(d, o.MaxRetryDelay)
		}
	}
	d := o.RetryDelay
	for i := 1; i < n && d < o.MaxRetryDelay; i++ {
		d *= 2
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(d, o.MaxRetryDelay)
}

// retryAfter reads retry-after-ms, x-ms-retry-after-ms and Retry-After
// (delta seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	for _, k := range []string{"Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
		if v := h.Get(k); v != "" {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
				return time.Duration(ms) * time.Millisecond, true
			}
		}
	}
	v := h.Get(wire.HeaderRetryAfter)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// discard drains a little of a response body and closes it so the
// connection can be reused.
func discard(resp *http.Response) {
	if resp.ContentLength == 0 {
		_ = resp.Body.Close()
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
}
