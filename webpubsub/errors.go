package webpubsub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// ErrInvalidArgument is wrapped by every error the client returns for bad
// input before any I/O: an empty id, a hub name the service refuses, a TTL
// out of range, an option the chosen api-version lacks. Test with
// errors.Is(err, webpubsub.ErrInvalidArgument).
var ErrInvalidArgument = errors.New("webpubsub: invalid argument")

// maxErrorBody bounds how much of an error response body is read.
const maxErrorBody = 4 << 10

// invalidArgError carries a readable explanation and unwraps to
// ErrInvalidArgument.
type invalidArgError struct{ msg string }

func (e *invalidArgError) Error() string { return "webpubsub: invalid argument: " + e.msg }
func (e *invalidArgError) Unwrap() error { return ErrInvalidArgument }

// invalidArg returns an error wrapping ErrInvalidArgument.
func invalidArg(format string, args ...any) error {
	return &invalidArgError{msg: fmt.Sprintf(format, args...)}
}

// ResponseError is returned for every response with a status the operation
// does not expect (for existence checks: anything but 200 and 404). Match it
// with errors.As:
//
//	var re *webpubsub.ResponseError
//	if errors.As(err, &re) && re.StatusCode == http.StatusTooManyRequests { ... }
//
// Its text never contains the query string of the request, an access key or
// a token.
type ResponseError struct {
	// Operation is the client method that failed, e.g. "SendToAll".
	Operation string
	// Method is the HTTP method of the request.
	Method string
	// URL is the request URL without its query string.
	URL string
	// StatusCode is the HTTP status the service returned.
	StatusCode int
	// ErrorCode is the service's error code: the x-ms-error-code header,
	// else the body's "code" or "error.code", else empty.
	ErrorCode string
	// Message is a bounded excerpt (at most 4 KiB) of the response body,
	// with anything that looks like a JWT redacted.
	Message string
}

// Error describes the failure: operation, method, URL, status, error code
// and the body excerpt.
func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString("webpubsub: ")
	b.WriteString(e.Operation)
	b.WriteString(": ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.ErrorCode != "" {
		b.WriteString(" (error code ")
		b.WriteString(e.ErrorCode)
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// jwtPattern matches compact JWS strings so they can be removed from text
// that came from the network before it reaches an error or a log.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

// redactTokens replaces JWTs in s with a marker.
func redactTokens(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	return jwtPattern.ReplaceAllString(s, "[REDACTED]")
}

// newResponseError reads at most maxErrorBody bytes of resp's body, closes
// it and describes the failure. secrets (the access key, the bearer token)
// are removed from the body excerpt, in case a proxy echoes them.
func newResponseError(op string, resp *http.Response, secrets []string) *ResponseError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	method, u := "", ""
	if resp.Request != nil {
		method, u = resp.Request.Method, urlWithoutQuery(resp.Request.URL.String())
	}
	e := &ResponseError{
		Operation:  op,
		Method:     method,
		URL:        u,
		StatusCode: resp.StatusCode,
		ErrorCode:  resp.Header.Get(wire.HeaderErrorCode),
		Message:    scrub(redactTokens(strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD"))), secrets),
	}
	if e.ErrorCode == "" {
		e.ErrorCode = errorCodeFromBody(body)
	}
	return e
}

// minScrubLen is the shortest secret scrub removes; shorter strings would
// mangle ordinary text and are not real keys or tokens.
const minScrubLen = 8

// scrub replaces every secret in s with a marker.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= minScrubLen && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// errorCodeFromBody finds "code" or "error.code" in a JSON error body.
func errorCodeFromBody(body []byte) string {
	var doc struct {
		Code  string `json:"code"`
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	if doc.Code != "" {
		return doc.Code
	}
	if doc.Error != nil {
		return doc.Error.Code
	}
	return ""
}

// urlWithoutQuery drops the query and fragment of a URL string.
func urlWithoutQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// transportError wraps a failure to get any response at all.
type transportError struct {
	op, method, url string
	err             error
}

func (e *transportError) Error() string {
	return "webpubsub: " + e.op + ": " + e.method + " " + e.url + ": " + redactTokens(e.err.Error())
}

func (e *transportError) Unwrap() error { return e.err }
