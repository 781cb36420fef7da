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
// never quote any value of the string (a key pasted into the wrong field
// would otherwise be shown): they name the segment or field and say what
// is wrong with it.
func ParseConnectionString(s string) (ConnectionString, error) {
	var cs ConnectionString
	var port string
	seen := make(map[string]int, 4)
	for i, seg := range strings.Split(s, ";") {
		if strings.TrimSpace(seg) == "" {
			continue
		}
		k, v, ok := strings.Cut(seg, "=")
		key := strings.ToLower(strings.TrimSpace(k))
		if !ok || key == "" {
			return ConnectionString{}, invalidArg("connection string: segment %d is not Key=Value (use Endpoint=...;AccessKey=...;)", i+1)
		}
		if first, dup := seen[key]; dup {
			return ConnectionString{}, invalidArg("connection string: segment %d repeats the key of segment %d (%s); give each key once", i+1, first, knownKeyName(key))
		}
		seen[key] = i + 1
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
	ep, err := normalizeEndpoint(cs.Endpoint, port, "Endpoint")
	if err != nil {
		return ConnectionString{}, invalidArg("connection string: %s", err.(*invalidArgError).msg)
	}
	cs.Endpoint = ep
	return cs, nil
}

// knownKeyName names a connection-string key without quoting the string:
// the canonical spelling of a key this package reads, else "an unknown key".
func knownKeyName(lower string) string {
	switch lower {
	case "endpoint":
		return "Endpoint"
	case "accesskey":
		return "AccessKey"
	case "version":
		return "Version"
	case "port":
		return "Port"
	}
	return "an unknown key"
}

// normalizeEndpoint checks that endpoint is an absolute http(s) URL without
// query, fragment or user info, applies port if not empty, and returns it
// without a trailing slash. Its errors (*invalidArgError) call the value
// name and never quote it, nor pass on url.Parse's errors, which do: a
// caller may have pasted a key or a whole connection string.
func normalizeEndpoint(endpoint, port, name string) (string, error) {
	const example = "; it must be an absolute http:// or https:// URL, e.g. https://<name>.webpubsub.azure.com"
	scheme, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return "", invalidArg("%s has no scheme%s", name, example)
	}
	if scheme = strings.ToLower(scheme); scheme != "http" && scheme != "https" {
		return "", invalidArg("%s has a scheme other than http or https%s", name, example)
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if strings.Contains(authority, "@") {
		return "", invalidArg("%s must not contain user info", name)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", invalidArg("%s is not a valid URL: %s", name, describeURLError(err))
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", invalidArg("%s has no host%s", name, example)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(rest, "?#") {
		return "", invalidArg("%s must not have a query or fragment", name)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", invalidArg("Port must be a number from 1 to 65535")
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	} else if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", invalidArg("%s's port must be a number from 1 to 65535", name)
		}
	}
	u.Scheme = scheme
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

// describeURLError says what kind of error url.Parse found, without its
// text (which quotes the input).
func describeURLError(err error) string {
	var esc url.EscapeError
	var host url.InvalidHostError
	switch {
	case errors.As(err, &esc):
		return "it contains an invalid %-escape (write a literal % as %25)"
	case errors.As(err, &host):
		return "its host contains a character not allowed in a host name"
	case strings.Contains(err.Error(), "invalid port"):
		return "its port must be a number from 1 to 65535"
	case strings.Contains(err.Error(), "missing ']'") || strings.Contains(err.Error(), "IPv6"):
		return "its host is not a valid IPv6 literal in brackets"
	}
	return "check its host, port and %-escapes"
}
