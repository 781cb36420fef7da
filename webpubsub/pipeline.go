package webpubsub

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// pipeline sends one operation's request: for each try it sets the
// User-Agent, signs (the JWT aud is the final service URL), rewrites the
// URL to the reverse proxy if one is set, sends, logs, and decides whether
// to retry.
type pipeline struct {
	http      *http.Client
	auth      authorizer
	retry     RetryOptions   // resolved
	logger    *slog.Logger   // nil: no logging
	tracer    tracing.Tracer // zero: no spans
	userAgent string
	uaValue   []string // {userAgent}, shared read-only by every request
	// proxyURL is the reverse proxy's base URL, nil if none; serviceURL
	// is the parsed service base URL, to map paths onto the proxy.
	proxyURL   *url.URL
	serviceURL *url.URL
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
}

// errBodyNotReplayable is wrapped when a try failed and the body of the
// request cannot be sent again.
var errBodyNotReplayable = errors.New("webpubsub: the message body is a non-seekable reader, so the failed send was not retried")

// do runs req through the pipeline. The caller must close the response
// body. Errors are transport failures (wrapping the cause, e.g.
// context.Canceled); statuses are left to the caller.
func (p *pipeline) do(ctx context.Context, op string, req *http.Request) (*http.Response, error) {
	aud := req.URL.String()
	rid, err := requestIDFor(ctx)
	if err != nil {
		return nil, err
	}
	req.Header[wire.HeaderClientRequestID] = []string{rid} // canonical key; every try is a clone or shares it
	if !p.tracer.Enabled() {
		resp, _, err := p.send(ctx, op, req, aud, rid, tracing.Span{}, false)
		return resp, err
	}
	ctx, span := p.startSpan(ctx, op, req, rid)
	resp, attempts, err := p.send(ctx, op, req, aud, rid, span, true)
	endSpan(span, req.Method, attempts, resp, err)
	return resp, err
}

// send runs the tries of one request; it returns the number of tries.
// With traced, each try is an event on span.
func (p *pipeline) send(ctx context.Context, op string, req *http.Request, aud, rid string, span tracing.Span, traced bool) (*http.Response, int, error) {
	target := req.URL
	if p.proxyURL != nil {
		target = p.proxied(req.URL)
	}
	idempotent := idempotentMethod(req.Method)
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		var try *http.Request
		if attempt == 1 {
			try = req.WithContext(ctx)
		} else {
			try = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, attempt, newTransportError(op, req.Method, aud, rid, err, nil)
				}
				try.Body = body
			}
		}
		try.Header[wire.HeaderUserAgent] = p.uaValue // canonical key; avoids a per-try allocation
		if err := p.auth.authorize(ctx, try.Header, aud); err != nil {
			return nil, attempt, err
		}
		if target != req.URL {
			try.URL = target
			try.Host = ""
		}
		start := p.now()
		resp, err := p.http.Do(try)
		elapsed := p.now().Sub(start)

		var retry bool
		if err != nil {
			retry = ctx.Err() == nil && p.retry.shouldRetryError(err, idempotent)
		} else {
			resp.Request = req // report the service URL, not the proxy's
			retry = p.retry.shouldRetryStatus(resp, idempotent)
		}
		bodyBlocked := retry && !replayable && attempt <= p.retry.MaxRetries
		if retry && (!replayable || attempt > p.retry.MaxRetries) {
			retry = false
		}
		var wait time.Duration
		if retry {
			wait = p.retry.delay(attempt, resp, p.now())
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		p.logTry(ctx, op, req.Method, req.URL, rid, status, err, elapsed, attempt, wait)
		if traced {
			traceTry(span, attempt, status, err, wait.Seconds())
		}

		if !retry {
			if err != nil {
				err = unwrapURLError(err)
				if bodyBlocked {
					err = errors.Join(err, errBodyNotReplayable)
				}
				return nil, attempt, newTransportError(op, req.Method, aud, rid, err, p.auth.secrets())
			}
			return resp, attempt, nil
		}
		if resp != nil {
			discard(resp)
		}
		if err := p.sleep(ctx, wait); err != nil {
			return nil, attempt, newTransportError(op, req.Method, aud, rid, err, nil)
		}
	}
}

// proxied maps a service URL onto the reverse proxy: the proxy's scheme
// and host, the proxy's path prefix in place of the service's, the same
// path below it and the same query.
func (p *pipeline) proxied(u *url.URL) *url.URL {
	t := *u
	t.Scheme, t.Host, t.User = p.proxyURL.Scheme, p.proxyURL.Host, nil
	t.Path = p.proxyURL.Path + strings.TrimPrefix(u.Path, p.serviceURL.Path)
	if u.RawPath != "" {
		t.RawPath = p.proxyURL.EscapedPath() + strings.TrimPrefix(u.RawPath, p.serviceURL.EscapedPath())
	}
	return &t
}

// unwrapURLError drops the *url.Error layer, whose text repeats the full
// URL with its query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
