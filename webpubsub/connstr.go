package webpubsub

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ConnectionString is a parsed Web PubSub connection string, as the Azure
// portal shows it: "Endpoint=https://<name>.webpubsub.azure.com;AccessKey=<key>;Version=1.0;".
//
// Its String, GoString and fmt verbs never show the access key.
type ConnectionString struct {
	// Endpoint is the normalized http(s) base URL of the service:
	// scheme://host[:port][/path], without a trailing slash, with Port=
	// applied.
	Endpoint string
	// AccessKey signs REST calls and client tokens. Never print it.
	AccessKey string
	// Version is the connection-string version (e.g. "1.0"), if given.
	Version string
}

// String returns the connection string with the access key replaced by a
// marker.
func (c ConnectionString) String() string {
	s := "Endpoint=" + c.Endpoint + ";AccessKey=[REDACTED];"
	if c.Version != "" {
		s += "Version=" + c.Version + ";"
	}
	return s
}

// GoString is String, so %#v does not reveal the key either.
func (c ConnectionString) GoString() string { return "webpubsub.ConnectionString(" + c.String() + ")" }

// Format makes every fmt verb print the redacted form.
func (c ConnectionString) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(c.GoString()))
		return
	}
	_, _ = f.Write([]byte(c.String()))
}

// ParseConnectionString parses "Key=Value;Key=Value;..." connection
// strings. Keys are case-insensitive and values are trimmed; Endpoint and
// AccessKey are required; Port (1-65535) replaces any port in the endpoint;
// Version is kept; unknown keys are ignored; empty segments (such as a
// trailing ";") are skipped. A segment without "=", a key given twice, a
// missing or empty required key, an endpoint that is not an absolute http or
// https URL, and a bad port are errors wrapping ErrInvalidArgument. Errors
// never contain the access key.
func ParseConnectionString(s string) (ConnectionString, error) {
	var cs ConnectionString
	var port string
	seen := make(map[string]bool, 4)
	for i, seg := range strings.Split(s, ";") {
		if strings.TrimSpace(seg) == "" {
			continue
		}
		k, v, ok := strings.Cut(seg, "=")
		key := strings.ToLower(strings.TrimSpace(k))
		if !ok || key == "" {
			return ConnectionString{}, invalidArg("connection string: segment %d is not Key=Value (use Endpoint=...;AccessKey=...;)", i+1)
		}
		if seen[key] {
			return ConnectionString{}, invalidArg("connection string: key %q appears more than once", strings.TrimSpace(k))
		}
		seen[key] = true
		v = strings.TrimSpace(v)
		switch key {
		case "endpoint":
			cs.Endpoint = v
		case "accesskey":
			cs.AccessKey = v
		case "version":
			cs.Version = v
		case "port":
			port = v
		}
	}
	if cs.Endpoint == "" {
		return ConnectionString{}, invalidArg("connection string: Endpoint is missing or empty")
	}
	if cs.AccessKey == "" {
		return ConnectionString{}, invalidArg("connection string: AccessKey is missing or empty")
	}
	ep, err := normalizeEndpoint(cs.Endpoint, port)
	if err != nil {
		var ia *invalidArgError
		if errors.As(err, &ia) { // one prefix, like the other connection string errors
			return ConnectionString{}, invalidArg("connection string: %s", ia.msg)
		}
		return ConnectionString{}, fmt.Errorf("connection string: %w", err)
	}
	cs.Endpoint = ep
	return cs, nil
}

// normalizeEndpoint checks that endpoint is an absolute http(s) URL without
// query, fragment or user info, applies port if not empty, and returns it
// without a trailing slash.
func normalizeEndpoint(endpoint, port string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", invalidArg("endpoint %q must be an absolute http:// or https:// URL, e.g. https://<name>.webpubsub.azure.com", redactUserinfo(endpoint))
	}
	if u.User != nil {
		return "", invalidArg("endpoint must not contain user info")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", invalidArg("endpoint %q must not have a query or fragment", urlWithoutQuery(endpoint))
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", invalidArg("Port %q must be a number from 1 to 65535", port)
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	} else if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", invalidArg("endpoint port %q must be a number from 1 to 65535", p)
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

// redactUserinfo keeps a malformed endpoint readable without leaking any
// user:password part.
func redactUserinfo(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		return "[REDACTED]" + s[i:]
	}
	return s
}
