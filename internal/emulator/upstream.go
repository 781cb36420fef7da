package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// DefaultUpstreamTimeout bounds one request to an event handler (the
// abuse-protection handshake or one event) unless WithUpstreamTimeout says
// otherwise.
const DefaultUpstreamTimeout = 5 * time.Second

// MaxUpstreamResponseBytes is the largest event handler answer the emulator
// reads (1 MiB, the service's largest client message). A larger answer is a
// failed delivery.
const MaxUpstreamResponseBytes = 1 << 20

// ErrCloseConnection marks an EventHandler error after which the client's
// connection must end, as the service drops a connection whose user event
// its event handler failed. The client first gets its failed ack (json
// subprotocols), then a disconnected message and a close frame.
var ErrCloseConnection = errors.New("the connection is closed because its event could not be handled")

// UpstreamSetting sends a hub's client events to an event handler as signed
// CloudEvents, like one event handler entry of the service's hub settings.
// For each event the first setting whose Hub and event lists match is used.
type UpstreamSetting struct {
	// Hub is the hub name, or "*" for every hub.
	Hub string `json:"hub"`
	// URLTemplate is the handler's http or https URL. {event} is replaced
	// by the event name and {hub} by the hub name.
	URLTemplate string `json:"urlTemplate"`
	// UserEventPattern selects user events: "*" for all, or event names
	// separated by commas ("message" is a simple WebSocket client's frame).
	// Empty sends none.
	UserEventPattern string `json:"userEventPattern"`
	// SystemEvents lists the system events to send: "connect" (blocking:
	// the handler decides whether the client may connect), "connected"
	// and "disconnected".
	SystemEvents []string `json:"systemEvents"`
}

// String describes the setting without the URL's query, which may hold a
// secret such as a function key.
func (s UpstreamSetting) String() string {
	return fmt.Sprintf("hub=%s;url=%s;user=%s;system=%s", s.Hub, redactURL(s.URLTemplate), s.UserEventPattern, strings.Join(s.SystemEvents, ","))
}

// upstreamSystemEvents are the system events an UpstreamSetting may name.
var upstreamSystemEvents = []string{wire.CEEventConnect, wire.CEEventConnected, wire.CEEventDisconnected}

// validate checks s and returns it normalized (system event names in lower
// case, spaces around event names dropped).
func (s UpstreamSetting) validate() (UpstreamSetting, error) {
	if s.Hub != "*" {
		if err := validateHub(s.Hub); err != nil {
			return s, fmt.Errorf("event handler %s: %v (or use \"*\" for every hub)", s, err)
		}
	}
	if s.URLTemplate == "" {
		return s, fmt.Errorf("event handler for hub %s: the URL is missing", s.Hub)
	}
	probe := expandTemplate(s.URLTemplate, "hub", wire.CEEventValidate)
	if strings.ContainsAny(probe, "{}") {
		return s, fmt.Errorf("event handler %s: the URL has an unknown placeholder; only %s and %s are replaced", s, wire.CEURLEventPlaceholder, wire.CEURLHubPlaceholder)
	}
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf("event handler %s: the URL is not an absolute http or https URL (e.g. http://localhost:8080/eventhandler/{event})", s)
	}
	if u.User != nil {
		return s, fmt.Errorf("event handler for hub %s: the URL must not hold a user name or password", s.Hub)
	}
	var users []string
	for _, name := range strings.Split(s.UserEventPattern, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "" && strings.TrimSpace(s.UserEventPattern) == "":
		case name == "":
			return s, fmt.Errorf("event handler %s: the user event list has an empty name", s)
		case name == "*" && strings.Contains(s.UserEventPattern, ","):
			return s, fmt.Errorf("event handler %s: \"*\" selects every user event and cannot be combined with names", s)
		default:
			users = append(users, name)
		}
	}
	s.UserEventPattern = strings.Join(users, ",")
	systems := make([]string, 0, len(s.SystemEvents))
	for _, name := range s.SystemEvents {
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(upstreamSystemEvents, name) {
			return s, fmt.Errorf("event handler %s: unknown system event %q: use %s", s, name, strings.Join(upstreamSystemEvents, ", "))
		}
		if !slices.Contains(systems, name) {
			systems = append(systems, name)
		}
	}
	s.SystemEvents = systems
	return s, nil
}

// matchesUser reports whether s sends the user event name of hub.
func (s *UpstreamSetting) matchesUser(hub, name string) bool {
	if !s.matchesHub(hub) || s.UserEventPattern == "" {
		return false
	}
	if s.UserEventPattern == "*" {
		return true
	}
	return slices.Contains(strings.Split(s.UserEventPattern, ","), name)
}

// matchesSystem reports whether s sends the system event name of hub.
func (s *UpstreamSetting) matchesSystem(hub, name string) bool {
	return s.matchesHub(hub) && slices.Contains(s.SystemEvents, name)
}

func (s *UpstreamSetting) matchesHub(hub string) bool { return s.Hub == "*" || s.Hub == hub }

// expandTemplate fills the {event} and {hub} placeholders of a URL template.
func expandTemplate(template, hub, event string) string {
	return strings.NewReplacer(wire.CEURLEventPlaceholder, url.PathEscape(event), wire.CEURLHubPlaceholder, url.PathEscape(hub)).Replace(template)
}

// redactURL drops the query of a URL for logs and errors: it may hold a
// function key or another secret.
func redactURL(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i] + "?…"
	}
	return raw
}

// Keys of the ParseUpstreamSetting syntax.
const (
	upstreamKeyHub    = "hub"
	upstreamKeyURL    = "url"
	upstreamKeyUser   = "user"
	upstreamKeySystem = "system"
)

// ParseUpstreamSetting parses an event handler setting written as
// semicolon-separated key=value pairs, for a command-line flag:
//
//	hub=chat;url=http://localhost:8080/eventhandler/{event};user=*;system=connect,connected,disconnected
//
// hub (a hub name or "*") and url are required. user is "*" or
// comma-separated event names, and defaults to "*"; "user=" sends no
// user events. system lists system events (connect, connected,
// disconnected) and defaults to none. The short form HUB=URL
// (chat=http://localhost:8080/eventhandler/{event}) sends the hub's user
// events only. A semicolon inside the URL must be written as %3B.
func ParseUpstreamSetting(s string) (UpstreamSetting, error) {
	const example = "hub=chat;url=http://localhost:8080/eventhandler/{event};user=*;system=connect,connected,disconnected"
	s = strings.TrimSpace(s)
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return UpstreamSetting{}, fmt.Errorf("event handler %q: write key=value pairs separated by ';', e.g. %s", redactURL(s), example)
	}
	if !strings.Contains(s, ";") && !isUpstreamKey(key) {
		out, err := UpstreamSetting{Hub: key, URLTemplate: value, UserEventPattern: "*"}.validate()
		return out, err
	}
	out := UpstreamSetting{UserEventPattern: "*"}
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, ";") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		key, value, ok := strings.Cut(pair, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || !isUpstreamKey(key) {
			return UpstreamSetting{}, fmt.Errorf("event handler %q: %q is not one of hub=, url=, user=, system= (e.g. %s)", redactURL(s), redactURL(pair), example)
		}
		if seen[key] {
			return UpstreamSetting{}, fmt.Errorf("event handler %q: %s= is given twice", redactURL(s), key)
		}
		seen[key] = true
		value = strings.TrimSpace(value)
		switch key {
		case upstreamKeyHub:
			out.Hub = value
		case upstreamKeyURL:
			out.URLTemplate = value
		case upstreamKeyUser:
			out.UserEventPattern = value
		case upstreamKeySystem:
			out.SystemEvents = nil
			for _, name := range strings.Split(value, ",") {
				if name = strings.TrimSpace(name); name != "" {
					out.SystemEvents = append(out.SystemEvents, name)
				}
			}
		}
	}
	if !seen[upstreamKeyHub] || !seen[upstreamKeyURL] {
		return UpstreamSetting{}, fmt.Errorf("event handler %q: hub= and url= are required, e.g. %s", redactURL(s), example)
	}
	return out.validate()
}

func isUpstreamKey(k string) bool {
	switch strings.ToLower(strings.TrimSpace(k)) {
	case upstreamKeyHub, upstreamKeyURL, upstreamKeyUser, upstreamKeySystem:
		return true
	}
	return false
}

// upstreamConfigFile is the JSON form read by LoadUpstreamConfig.
type upstreamConfigFile struct {
	EventHandlers []upstreamConfigEntry `json:"eventHandlers"`
}

type upstreamConfigEntry struct {
	Hub              string   `json:"hub"`
	URLTemplate      string   `json:"urlTemplate"`
	UserEventPattern *string  `json:"userEventPattern"`
	SystemEvents     []string `json:"systemEvents"`
}

// LoadUpstreamConfig reads event handler settings from a JSON file:
//
//	{"eventHandlers": [
//	  {"hub": "chat", "urlTemplate": "http://localhost:8080/eventhandler/{event}",
//	   "userEventPattern": "*", "systemEvents": ["connect", "connected", "disconnected"]}
//	]}
//
// The fields are those of UpstreamSetting. An absent userEventPattern means
// "*" (as in ParseUpstreamSetting); "" sends no user events. Unknown fields
// are errors, so a misspelt name is noticed.
func LoadUpstreamConfig(path string) ([]UpstreamSetting, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("event handler config: %w", err)
	}
	settings, err := ParseUpstreamConfig(data)
	if err != nil {
		return nil, fmt.Errorf("event handler config %s: %w", path, err)
	}
	return settings, nil
}

// ParseUpstreamConfig parses the JSON document LoadUpstreamConfig reads.
func ParseUpstreamConfig(data []byte) ([]UpstreamSetting, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f upstreamConfigFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not the expected JSON (%v): write {\"eventHandlers\": [{\"hub\": ..., \"urlTemplate\": ..., \"userEventPattern\": ..., \"systemEvents\": [...]}]}", err)
	}
	if dec.More() {
		return nil, errors.New("extra data after the JSON object")
	}
	out := make([]UpstreamSetting, 0, len(f.EventHandlers))
	for i, e := range f.EventHandlers {
		s := UpstreamSetting{Hub: e.Hub, URLTemplate: e.URLTemplate, UserEventPattern: "*", SystemEvents: e.SystemEvents}
		if e.UserEventPattern != nil {
			s.UserEventPattern = *e.UserEventPattern
		}
		s, err := s.validate()
		if err != nil {
			return nil, fmt.Errorf("eventHandlers[%d]: %w", i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// upstreamOptions are the options of the upstream dispatcher.
type upstreamOptions struct {
	settings  []UpstreamSetting
	timeout   time.Duration
	origin    string
	noOrigin  bool // WithUpstreamOrigin("") was passed: a mistake New reports
	transport http.RoundTripper
}

func (o *options) upstreamOpts() *upstreamOptions {
	if o.upstream == nil {
		o.upstream = &upstreamOptions{timeout: DefaultUpstreamTimeout}
	}
	return o.upstream
}

// WithUpstream sends client events to event handlers as the service does:
// signed CloudEvents POSTs (ce-signature with every access key), after the
// abuse-protection handshake (OPTIONS) of each handler URL has passed. The
// connect event decides whether a client may connect (and may set its user
// id, groups, roles, subprotocol and connection state); a user event's
// answer goes back to the client as a server message, and a failed user
// event closes the connection; connected and disconnected failures are only
// logged. Settings from several calls add up; New checks them. Without any
// setting, WithUpstream, WithUpstreamTimeout and WithUpstreamOrigin have no
// effect, so a command may pass them unconditionally. It cannot be combined
// with WithEventHandler.
func WithUpstream(settings ...UpstreamSetting) Option {
	return func(o *options) {
		u := o.upstreamOpts()
		u.settings = append(u.settings, settings...)
	}
}

// WithUpstreamTimeout bounds each request to an event handler (the default
// is DefaultUpstreamTimeout). A connect event that times out rejects the
// client with 500; a user event that times out closes its connection.
func WithUpstreamTimeout(d time.Duration) Option {
	return func(o *options) { o.upstreamOpts().timeout = d }
}

// WithUpstreamOrigin sets the WebHook-Request-Origin the emulator sends to
// event handlers, the service host they allow (e.g. "localhost:8080").
// By default it is the Host a client used to connect, as in its
// connection string.
func WithUpstreamOrigin(host string) Option {
	return func(o *options) {
		u := o.upstreamOpts()
		u.origin, u.noOrigin = host, host == ""
	}
}

// WithUpstreamTransport sends the requests to event handlers (handshakes
// and events) through rt instead of a fresh HTTP transport, for example to
// serve them in-process with an http.Handler in tests. Signing, headers,
// the handshake, timeouts and failure handling stay the same; only the cap
// on response headers (64 KiB) is then rt's business.
func WithUpstreamTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.upstreamOpts().transport = rt }
}

// setupUpstream validates the upstream options and installs the dispatcher
// as the event handler.
func (o *options) setupUpstream() error {
	u := o.upstream
	if u == nil || len(u.settings) == 0 {
		return nil
	}
	switch {
	case o.eventHandler != nil:
		return errors.New("emulator: WithUpstream and WithEventHandler cannot be combined: pass one of them")
	case u.timeout <= 0:
		return fmt.Errorf("emulator: upstream timeout %v must be positive", u.timeout)
	case u.noOrigin || strings.ContainsAny(u.origin, " /\r\n\x00"):
		return errors.New("emulator: WithUpstreamOrigin needs a host name such as \"localhost:8080\"")
	}
	settings := make([]UpstreamSetting, len(u.settings))
	for i, s := range u.settings {
		v, err := s.validate()
		if err != nil {
			return fmt.Errorf("emulator: %w", err)
		}
		settings[i] = v
	}
	d := newDispatcher(settings, o.accessKeys, u.origin, u.timeout, o.logger)
	if u.transport != nil {
		d.client.Transport = u.transport
	}
	o.eventHandler = d
	return nil
}
