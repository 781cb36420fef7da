package webpubsub

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func validHub(hub string) error {
	if !hubPattern.MatchString(hub) {
		return invalidArg("hub %q must start with a letter and have at most 128 letters, digits or _`,.[] (no hyphens)", hub)
	}
	return nil
}

// firstError returns the first non-nil error among checks: argument checks,
// which are cheap and free of side effects, evaluated in order.
func firstError(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return invalidArg("context is nil; pass context.Background() or a request context")
	}
	return nil
}

func validGroup(group string) error {
	switch n := utf8.RuneCountInString(group); {
	case group == "":
		return invalidArg("group name is empty")
	case n > wire.MaxGroupNameChars:
		return invalidArg("group name is %d characters; the service allows at most 1024", n)
	case strings.TrimSpace(group) == "":
		return invalidArg("group name is only whitespace")
	case isDotSegment(group):
		return invalidArg("group name %q cannot be used: in a URL path it is read as a step to the same or the parent folder, which would send the request to another operation", group)
	}
	return nil
}

func validID(kind, id string) error {
	switch {
	case id == "":
		return invalidArg("%s is empty", kind)
	case isDotSegment(id):
		return invalidArg("%s %q cannot be used: in a URL path it is read as a step to the same or the parent folder, which would send the request to another operation", kind, id)
	}
	return nil
}

// isDotSegment reports whether s is "." or "..", which URL resolution
// removes from a path (RFC 3986, section 5.2.4) however it is escaped.
func isDotSegment(s string) bool { return s == "." || s == ".." }

func validExcluded(ids []string) ([]string, error) {
	for i, id := range ids {
		if id == "" {
			return nil, invalidArg("excluded connection id %d is empty", i+1)
		}
	}
	if len(ids) == 0 {
		return nil, nil // an empty non-nil slice would send "excluded="
	}
	return ids, nil
}

// needVersion refuses what needs api-version min when the client uses an
// older one.
func (c *Client) needVersion(min, what string) error {
	if c.apiVersion < min {
		return invalidArg("%s needs api-version %s or later, but the client uses %s (see WithAPIVersion)", what, min, c.apiVersion)
	}
	return nil
}

// ttlSeconds checks a TTL and converts it to the query value.
func (c *Client) ttlSeconds(ttl time.Duration) (*int32, error) {
	if ttl == 0 {
		return nil, nil
	}
	if ttl < 0 || ttl > wire.MaxMessageTTLSeconds*time.Second {
		return nil, invalidArg("TTL %v must be between 1s and 5m0s (0 means the message never expires)", ttl)
	}
	if ttl%time.Second != 0 {
		return nil, invalidArg("TTL %v must be a whole number of seconds", ttl)
	}
	if err := c.needVersion(wire.APIVersion20240101, "TTL (messageTtlSeconds)"); err != nil {
		return nil, err
	}
	s := int32(ttl / time.Second)
	return &s, nil
}

func (c *Client) filterParam(f string) (*string, error) {
	if f == "" {
		return nil, nil
	}
	if err := c.needVersion(wire.APIVersion20221101, "Filter"); err != nil {
		return nil, err
	}
	return &f, nil
}
