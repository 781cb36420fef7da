package wsclient

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// Errors returned by the client's operations; match them with errors.Is.
var (
	// ErrStopped is returned by operations on a client that is stopped or
	// was never started. The error may carry why the client stopped.
	ErrStopped = errors.New("wsclient: the client is stopped")
	// ErrAckLost is returned by an acknowledged operation whose connection
	// was lost for good (no recovery) after the request was sent: the
	// service may or may not have executed it.
	ErrAckLost = errors.New("wsclient: the connection was lost before the service acknowledged the request; it may or may not have been executed")
	// ErrAlreadyStarted is returned by Start on a running client.
	ErrAlreadyStarted = errors.New("wsclient: the client is already started")
)

// AckError is a negative acknowledgement from the service, e.g. Forbidden
// when the connection lacks the permission to join a group. A Duplicate
// ack is not an error: the request was executed before.
type AckError struct {
	// AckID is the ack id of the failed request.
	AckID uint64
	// Name is the service's error name: Forbidden, BadRequest, NotFound,
	// InternalServerError, Timeout or another name a newer service uses.
	Name string
	// Message is the service's explanation.
	Message string
}

// Error names the ack error and its message.
func (e *AckError) Error() string {
	return fmt.Sprintf("wsclient: the service refused request %d: %s: %s", e.AckID, e.Name, redact(e.Message))
}

// ConnectError says why a WebSocket connection could not be opened: the
// URL, the network, the service's refusal (StatusCode and the service's
// text) or a subprotocol the service did not accept. Its text never holds
// the access token.
type ConnectError struct {
	// URL is the endpoint without its query (which holds the token).
	URL string
	// StatusCode is the HTTP status of a refused handshake, 0 otherwise.
	StatusCode int
	// Reason is what went wrong, with secrets redacted; for a refused
	// handshake it holds the service's response text.
	Reason string
	err    error
}

// Error says where and why connecting failed.
func (e *ConnectError) Error() string {
	if e.URL == "" {
		return "wsclient: connecting: " + e.Reason
	}
	return "wsclient: connecting to " + e.URL + ": " + e.Reason
}

// Unwrap returns the cause (a context or network error), if any.
func (e *ConnectError) Unwrap() error { return e.err }

// endpoint returns u without query, fragment and user information, for
// messages.
func endpoint(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment, c.User = "", "", "", nil
	return c.String()
}

var (
	// tokenParam matches the value of a token query parameter, also
	// JSON-escaped or percent-encoded around it.
	tokenParam = regexp.MustCompile(`(?i)((?:` + wire.QueryAccessToken + `|` + wire.QueryReconnectionToken + `)(?:=|%3D|\\u003d|":\s*"))[^&\s"'\\]*`)
	// jwtText matches anything shaped like a JWT.
	jwtText = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	// bearer matches an Authorization header value.
	bearer = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`)
)

// redact removes tokens from text a service or the network produced. The
// regular expressions run in linear time.
func redact(s string) string {
	s = tokenParam.ReplaceAllString(s, "${1}REDACTED")
	s = jwtText.ReplaceAllString(s, "REDACTED")
	return bearer.ReplaceAllString(s, "${1}REDACTED")
}

// redactSecrets removes the given secret values and then every token
// shape from s.
func redactSecrets(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) >= 8 {
			s = strings.ReplaceAll(s, v, "REDACTED")
		}
	}
	return redact(s)
}

// oneLine shortens service text to one line of at most 300 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "..."
	}
	return s
}

// GoString keeps the unexported cause (whose text may hold what a service
// echoed) out of %#v.
func (e *ConnectError) GoString() string {
	return fmt.Sprintf("&wsclient.ConnectError{URL:%q, StatusCode:%d, Reason:%q}", e.URL, e.StatusCode, e.Reason)
}

// GoString prints the ack error as Error does.
func (e *AckError) GoString() string {
	return fmt.Sprintf("&wsclient.AckError{AckID:%d, Name:%q, Message:%q}", e.AckID, redact(e.Name), redact(e.Message))
}

// serviceText makes text a service sent fit for errors, events and logs:
// secrets removed, one line, at most 300 bytes.
func serviceText(s string, secrets ...string) string {
	return oneLine(redactSecrets(s, secrets...))
}

// scrubErr returns err with the service's text in it (a close reason)
// redacted; an error whose text holds a secret becomes a plain error
// with the redacted text.
func scrubErr(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		clean := serviceText(ce.Reason, secrets...)
		if clean == ce.Reason {
			return err
		}
		return websocket.CloseError{Code: ce.Code, Reason: clean}
	}
	// Other errors may quote what the service sent (a protocol error):
	// redacted, and one line of it.
	if s := err.Error(); serviceText(s, secrets...) != s {
		return errors.New(serviceText(s, secrets...))
	}
	return err
}
