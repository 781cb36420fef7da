package webpubsub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
)

// Span and attribute names, as the Azure SDKs' tracing conventions use
// them.
const (
	tracerName            = "github.com/webpubsub-go/sdk/webpubsub"
	attrNamespace         = "az.namespace"
	namespaceWebPubSub    = "Microsoft.SignalRService"
	attrMethod            = "http.request.method"
	attrURL               = "url.full"
	attrServerAddress     = "server.address"
	attrServerPort        = "server.port"
	attrStatusCode        = "http.response.status_code"
	attrErrorType         = "error.type"
	attrClientRequestID   = "az.client_request_id"
	attrServiceRequestID  = "az.service_request_id"
	attrResendCount       = "http.request.resend_count"
	eventTry              = "webpubsub.try"
	attrTryAttempt        = "attempt"
	attrTryRetryInSeconds = "retry_in_seconds"
)

// WithTracingProvider makes the client record one span per operation with
// p, for example OpenTelemetry through
// azotel.NewTracingProvider(otel.GetTracerProvider(), nil) (module
// github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel). Spans are named
// like the Azure SDKs' ("Client.SendToAll", "Client.AddUserToGroup"), have
// kind client and the attributes az.namespace (Microsoft.SignalRService),
// http.request.method, url.full (secret query values redacted),
// server.address, server.port, az.client_request_id,
// http.response.status_code, az.service_request_id, and error.type with
// an error status when the operation failed (the HTTP status, or the Go
// type of a transport error).
//
// Every try is an event named "webpubsub.try" on the operation's span,
// with its attempt number, its status or error.type, and the wait before
// the next try; http.request.resend_count counts the retries. Events, not
// a child span per try, because a try has no attributes of its own beyond
// these and a span per operation is what callers correlate. Listing makes
// one span per page request.
//
// Without this option (or with the zero Provider) no span is made and
// tracing costs no allocation.
func WithTracingProvider(p tracing.Provider) Option {
	return func(o *clientOptions) {
		t := p.NewTracer(tracerName, SDKVersion)
		t.SetAttributes(tracing.Attribute{Key: attrNamespace, Value: namespaceWebPubSub})
		o.tracer = t
	}
}

// startSpan starts the span of one operation's request.
func (p *pipeline) startSpan(ctx context.Context, op string, req *http.Request, rid string) (context.Context, tracing.Span) {
	attrs := []tracing.Attribute{
		{Key: attrMethod, Value: req.Method},
		{Key: attrURL, Value: redactURL(req.URL)},
		{Key: attrServerAddress, Value: req.URL.Hostname()},
		{Key: attrClientRequestID, Value: rid},
	}
	if port := req.URL.Port(); port != "" {
		if n, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, tracing.Attribute{Key: attrServerPort, Value: n})
		}
	}
	return p.tracer.Start(ctx, "Client."+op, &tracing.SpanOptions{Kind: tracing.SpanKindClient, Attributes: attrs})
}

// traceTry records one try as an event.
func traceTry(span tracing.Span, attempt, status int, err error, retryIn float64) {
	attrs := []tracing.Attribute{{Key: attrTryAttempt, Value: attempt}}
	if err != nil {
		attrs = append(attrs, tracing.Attribute{Key: attrErrorType, Value: errorType(err)})
	} else {
		attrs = append(attrs, tracing.Attribute{Key: attrStatusCode, Value: status})
	}
	if retryIn > 0 {
		attrs = append(attrs, tracing.Attribute{Key: attrTryRetryInSeconds, Value: retryIn})
	}
	span.AddEvent(eventTry, attrs...)
}

// endSpan records the outcome of the operation's request and ends span.
// A status of 400 or more is an error, except 404 for an existence check
// (HEAD), whose answer it is.
func endSpan(span tracing.Span, method string, attempts int, resp *http.Response, err error) {
	attrs := make([]tracing.Attribute, 0, 4)
	if attempts > 1 {
		attrs = append(attrs, tracing.Attribute{Key: attrResendCount, Value: attempts - 1})
	}
	switch {
	case err != nil:
		t := errorType(err)
		attrs = append(attrs, tracing.Attribute{Key: attrErrorType, Value: t})
		span.SetAttributes(attrs...)
		span.SetStatus(tracing.SpanStatusError, t)
	default:
		attrs = append(attrs, tracing.Attribute{Key: attrStatusCode, Value: resp.StatusCode})
		if id := resp.Header.Get("X-Ms-Request-Id"); id != "" {
			attrs = append(attrs, tracing.Attribute{Key: attrServiceRequestID, Value: truncateUTF8(id, 128)})
		}
		failed := resp.StatusCode >= 400 && !(method == http.MethodHead && resp.StatusCode == http.StatusNotFound)
		if failed {
			attrs = append(attrs, tracing.Attribute{Key: attrErrorType, Value: strconv.Itoa(resp.StatusCode)})
		}
		span.SetAttributes(attrs...)
		if failed {
			span.SetStatus(tracing.SpanStatusError, strconv.Itoa(resp.StatusCode)+" "+http.StatusText(resp.StatusCode))
		}
	}
	span.End()
}

// knownErrors are the sentinel causes errorType names, most specific first.
var knownErrors = []struct {
	err  error
	name string
}{
	{context.Canceled, "context.Canceled"},
	{context.DeadlineExceeded, "context.DeadlineExceeded"},
	{syscall.ECONNREFUSED, "syscall.ECONNREFUSED"},
	{syscall.ECONNRESET, "syscall.ECONNRESET"},
	{io.ErrUnexpectedEOF, "io.ErrUnexpectedEOF"},
	{io.EOF, "io.EOF"},
}

// errorType names the kind of a transport error without its text (which
// may quote the peer): the Go type of the innermost cause worth naming.
func errorType(err error) string {
	for _, known := range knownErrors {
		if errors.Is(err, known.err) {
			return known.name
		}
	}
	var te *transportError
	if errors.As(err, &te) {
		err = te.err
	}
	err = unwrapURLError(err)
	return fmt.Sprintf("%T", err)
}
