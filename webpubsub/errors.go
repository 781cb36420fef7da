package webpubsub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

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
// errors.As with an *azcore.ResponseError works too (see As), so error
// handling shared with other Azure SDKs sees the status and error code.
//
// Every string in it that came from the response went through one filter
// (see Message), so neither its fields, its text nor its azcore view
// contains the request's query string, an access key or a token, even
// when a hostile service or proxy echoes them.
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
	// else the body's "code" or "error.code", else empty; at most 256
	// bytes, redacted like Message.
	ErrorCode string
	// Message is a bounded excerpt (at most 4 KiB) of the response body.
	// Access keys, tokens and anything shaped like a JWT are replaced by
	// "[REDACTED]", also where the response escaped them (JSON "\u002e"
	// or "\/", percent-encoding).
	Message string
	// RequestID is the x-ms-client-request-id the client sent with every
	// try of the operation (see WithClientRequestID); quote it in a support
	// case.
	RequestID string
	// Header holds the response headers, at most 64 values of at most
	// 1 KiB each, without cookies and authentication headers and with
	// values redacted like Message. The service's own request id is in
	// its X-Ms-Request-Id.
	Header http.Header
}

// Error describes the failure: operation, method, URL, status, error code,
// request id and the body excerpt.
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
	if e.RequestID != "" {
		b.WriteString(" (client request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// As lets errors.As fill an **azcore.ResponseError: it gets StatusCode,
// ErrorCode and a RawResponse built from this error alone (status, the
// redacted headers, Message as the body, and a request with the method and
// the URL without query). It never holds the original request or response,
// so it carries no Authorization header, query string or unredacted body.
func (e *ResponseError) As(target any) bool {
	t, ok := target.(**azcore.ResponseError)
	if !ok {
		return false
	}
	*t = e.azcore()
	return true
}

// azcore builds the *azcore.ResponseError view of e.
func (e *ResponseError) azcore() *azcore.ResponseError {
	resp := &http.Response{
		Status:        strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode),
		StatusCode:    e.StatusCode,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        e.Header.Clone(),
		Body:          io.NopCloser(strings.NewReader(e.Message)),
		ContentLength: int64(len(e.Message)),
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if u, err := url.Parse(e.URL); err == nil {
		u.RawQuery, u.Fragment, u.User = "", "", nil
		resp.Request = &http.Request{Method: e.Method, URL: u, Header: http.Header{}, Host: u.Host}
	}
	return &azcore.ResponseError{ErrorCode: e.ErrorCode, StatusCode: e.StatusCode, RawResponse: resp}
}

// Bounds on what a ResponseError keeps of a response.
const (
	maxErrorCode      = 256
	maxHeaderValues   = 64
	maxHeaderValueLen = 1 << 10
)

// droppedHeaders are response headers a ResponseError never keeps: they
// carry credentials or session state, not diagnostics.
var droppedHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Set-Cookie": true, "Cookie": true,
	"Proxy-Authenticate": true, "Www-Authenticate": true, "Authentication-Info": true,
}

// newResponseError reads a bounded part of resp's body, closes it and
// describes the failure. It is the one place where response data enters
// a ResponseError: the body excerpt, the error code and the header values
// all pass through redact with secrets (the access key, the bearer token).
func newResponseError(op string, resp *http.Response, secrets []string) *ResponseError {
	// Read past the bound so a secret crossing it is still recognised,
	// then cut the redacted text.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2*maxErrorBody))
	_ = resp.Body.Close()
	method, u, rid := "", "", ""
	if resp.Request != nil {
		method, u = resp.Request.Method, urlWithoutQuery(resp.Request.URL.String())
		rid = resp.Request.Header.Get(wire.HeaderClientRequestID)
	}
	code := resp.Header.Get(wire.HeaderErrorCode)
	if code == "" {
		code = errorCodeFromBody(body)
	}
	e := &ResponseError{
		Operation:  op,
		Method:     method,
		URL:        redactTokens(u),
		StatusCode: resp.StatusCode,
		ErrorCode:  truncateUTF8(redact(truncateUTF8(code, 2*maxErrorCode), secrets), maxErrorCode),
		Message:    truncateUTF8(strings.TrimSpace(redact(string(body), secrets)), maxErrorBody),
		RequestID:  rid,
		Header:     redactHeader(resp.Header, secrets),
	}
	return e
}

// redactHeader copies the diagnostic headers of h, bounded and redacted.
func redactHeader(h http.Header, secrets []string) http.Header {
	out := make(http.Header, min(len(h), maxHeaderValues))
	n := 0
	for k, vs := range h {
		if droppedHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			if n == maxHeaderValues {
				return out
			}
			n++
			k := redact(truncateUTF8(k, maxHeaderValueLen), secrets)
			out[k] = append(out[k], truncateUTF8(redact(truncateUTF8(v, 2*maxHeaderValueLen), secrets), maxHeaderValueLen))
		}
	}
	return out
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
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

// transportError wraps a failure to get a usable response: no response at
// all, a body that broke off or could not be decoded. Its text is made
// once, redacted, because a transport error may quote what the peer sent
// (a malformed status line, for example).
type transportError struct {
	op, method, url string
	requestID       string
	text            string // redact(err.Error())
	err             error
}

// newTransportError describes err for the try of op that sent method to
// u (whose query is dropped); secrets are removed from err's text.
func newTransportError(op, method, u, requestID string, err error, secrets []string) *transportError {
	return &transportError{op: op, method: method, url: redactTokens(urlWithoutQuery(u)), requestID: requestID,
		text: redact(err.Error(), secrets), err: err}
}

func (e *transportError) Error() string {
	s := "webpubsub: " + e.op + ": " + e.method + " " + e.url + ": " + e.text
	if e.requestID != "" {
		s += " (client request id " + e.requestID + ")"
	}
	return s
}

// GoString is Error, so %#v never prints the wrapped error's fields.
func (e *transportError) GoString() string { return e.Error() }

func (e *transportError) Unwrap() error { return e.err }
