package webpubsub

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// secretQueryKeys are query parameters whose values never reach a log.
var secretQueryKeys = map[string]bool{
	"access_token": true, "token": true, "sig": true, "signature": true,
	"key": true, "accesskey": true, "code": true, "secret": true,
}

// redactURL returns u as text with the values of secret query parameters
// replaced and any user info dropped.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment = ""
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k := range q {
			if secretQueryKeys[strings.ToLower(k)] {
				q[k] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return redactTokens(c.String())
}

// logTry records one try: operation, method, redacted URL, client request
// id, status or error, duration and attempt number. It never logs headers or bodies.
func (p *pipeline) logTry(ctx context.Context, op, method string, u *url.URL, requestID string, status int, err error, d time.Duration, attempt int, retryIn time.Duration) {
	if p.logger == nil {
		return
	}
	level := slog.LevelInfo
	if err != nil || status >= 500 || status == 429 || status == 408 {
		level = slog.LevelWarn
	}
	if !p.logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.String("operation", op),
		slog.String("method", method),
		slog.String("url", redactURL(u)),
		slog.String("client_request_id", requestID),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", redact(err.Error(), p.auth.secrets())))
	} else {
		attrs = append(attrs, slog.Int("status", status))
	}
	if retryIn > 0 {
		attrs = append(attrs, slog.Duration("retry_in", retryIn))
	}
	p.logger.LogAttrs(ctx, level, "webpubsub request", attrs...)
}
