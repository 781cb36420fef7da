package eventhandler

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// DefaultMaxBodyBytes caps request bodies unless WithMaxBodyBytes says
// otherwise: 1 MiB, the service's largest client message.
const DefaultMaxBodyBytes = 1 << 20

// Option configures a Handler.
type Option func(*config)

type config struct {
	keys         []string
	origins      []string // lowercase host names (ports dropped)
	allowAll     bool
	noSignature  bool
	maxBodyBytes int64
	logger       *slog.Logger
	errs         []error
}

// WithConnectionString takes the access key and the allowed origin from a
// Web PubSub connection string ("Endpoint=https://<name>.webpubsub.azure.com;
// AccessKey=...;Version=1.0;"): requests must be signed with the key, and
// the endpoint's host may pass the abuse-protection handshake. Combine it
// with WithAccessKeys to also accept the other key while you rotate keys.
func WithConnectionString(connectionString string) Option {
	return func(c *config) {
		cs, err := webpubsub.ParseConnectionString(connectionString)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("WithConnectionString: %w", err))
			return
		}
		c.keys = append(c.keys, cs.AccessKey)
		c.addOrigin(cs.Endpoint)
	}
}

// WithAccessKeys adds access keys that may sign requests. Pass both the
// primary and the secondary key to keep working while either is
// regenerated. A request is accepted when any value of its ce-signature
// header matches any key.
func WithAccessKeys(keys ...string) Option {
	return func(c *config) {
		for i, k := range keys {
			if strings.TrimSpace(k) == "" {
				c.errs = append(c.errs, fmt.Errorf("WithAccessKeys: key %d is empty", i+1))
				continue
			}
			c.keys = append(c.keys, k)
		}
	}
}

// WithAllowedOrigins adds the service hosts whose requests the handler
// accepts, both in the abuse-protection handshake and on events (the
// WebHook-Request-Origin header). Each origin is a host name
// ("<name>.webpubsub.azure.com"), a host and port, or a URL whose host is
// used; ports are ignored. "*" allows any origin.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) {
		for _, o := range origins {
			if strings.TrimSpace(o) == "" {
				c.errs = append(c.errs, errors.New("WithAllowedOrigins: an origin is empty; give a host name, a URL or \"*\""))
				continue
			}
			c.addOrigin(o)
		}
	}
}

// WithoutSignatureValidation turns off the ce-signature check. Use it only
// when something else authenticates the service, e.g. behind a trusted
// proxy that checks the service's managed-identity token. Hub, origin and
// shape checks stay on.
func WithoutSignatureValidation() Option {
	return func(c *config) { c.noSignature = true }
}

// WithMaxBodyBytes caps request bodies at n bytes (default
// DefaultMaxBodyBytes). Larger requests get 413 and never reach a callback.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxBodyBytes: %d is not a positive size", n))
			return
		}
		c.maxBodyBytes = n
	}
}

// WithLogger sets the logger for refused requests (Warn), callback failures
// (Error) and handled events (Debug). Signatures and keys are never logged.
// By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// addOrigin records an allowed origin in its normalized form.
func (c *config) addOrigin(o string) {
	o = strings.TrimSpace(o)
	if o == wire.CEAllowAllOrigins {
		c.allowAll = true
		return
	}
	if strings.Contains(o, "://") {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			c.errs = append(c.errs, fmt.Errorf("allowed origin %q is not a URL with a host", o))
			return
		}
		o = u.Host
	}
	c.origins = append(c.origins, hostName(o))
}

// hostName lowercases h and drops a port.
func hostName(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// allowedOrigin returns the first value of a WebHook-Request-Origin header
// (which may list several, comma- or space-separated) that is allowed.
func (c *config) allowedOrigin(values []string) (string, bool) {
	for _, v := range values {
		for o := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			if c.allowAll {
				return o, true
			}
			name := hostName(o)
			for _, allowed := range c.origins {
				if name == allowed {
					return o, true
				}
			}
		}
	}
	return "", false
}
