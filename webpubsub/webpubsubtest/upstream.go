package webpubsubtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// DefaultEventPath is the path of the requests an in-process event handler
// (SetEventHandler) receives unless WithEventPath says otherwise.
const DefaultEventPath = "/eventhandler"

// System events for WithSystemEvents.
const (
	EventConnect      = "connect"      // blocking: the handler decides whether the client may connect
	EventConnected    = "connected"    // the client's WebSocket handshake completed
	EventDisconnected = "disconnected" // the connection ended
)

// The emulator sends every event to eventsHost; the server's transport
// routes it to the hub's handler or answers it itself. In-process handlers
// see inProcessHost. Neither name resolves.
const (
	eventsHost    = "events.webpubsubtest.invalid"
	inProcessHost = "app.webpubsubtest.invalid"
)

// EventHandlerOption configures SetEventHandler and SetEventHandlerURL.
type EventHandlerOption func(*route)

// route is where one hub's events go.
type route struct {
	handler    http.Handler // nil for a URL
	template   string       // absolute URL template, or the path template of an in-process handler
	pathSet    bool
	userEvents []string // nil: every user event
	system     []string
}

// WithEventPath sets the path (and query) of the requests an in-process
// handler receives, so that a router sees the path its event handler is
// mounted at, e.g. "/api/webpubsub/{event}" (DefaultEventPath otherwise).
// {event} and {hub} are replaced as in an event handler URL. It applies to
// SetEventHandler only.
func WithEventPath(pathTemplate string) EventHandlerOption {
	return func(r *route) { r.template, r.pathSet = pathTemplate, true }
}

// WithUserEvents sends only the named user events to the handler ("message"
// is a simple WebSocket client's frame); with no names, none. Without this
// option every user event goes to the handler.
func WithUserEvents(names ...string) EventHandlerOption {
	return func(r *route) { r.userEvents = append([]string{}, names...) }
}

// WithSystemEvents sends only the named system events (EventConnect,
// EventConnected, EventDisconnected) to the handler; with no names, none.
// Without this option all three go to the handler.
func WithSystemEvents(names ...string) EventHandlerOption {
	return func(r *route) { r.system = append([]string{}, names...) }
}

// WithEventHandlerTimeout bounds each request to an event handler (5 s
// otherwise). A connect event that times out rejects the client with 500;
// a user event that times out closes its connection.
func WithEventHandlerTimeout(d time.Duration) Option {
	return func(c *config) { c.upstreamTimeout = d }
}

// SetEventHandler sends the events of hub ("*" for every hub without a
// handler of its own) to h, served in-process, as the service sends them to
// an app's event handler: signed CloudEvents POSTs after the
// abuse-protection handshake (OPTIONS), with the same headers, timeouts and
// failure handling as `webpubsub serve --event-handler`. h is typically the
// app's eventhandler.Handler built with
// eventhandler.WithConnectionString(srv.ConnectionString()), or the app's
// router that mounts it at DefaultEventPath (see WithEventPath).
//
// By default every user event and the connect, connected and disconnected
// events go to h; WithUserEvents and WithSystemEvents choose. The connect
// event decides whether a client may connect: Dial's error reports the
// handler's rejection (status and reason), and its answer sets the client's
// user id, groups, roles and subprotocol. A user event's reply reaches the
// client as a message from the server; a failed user event closes the
// client's connection, as the service does. Events the handler does not
// receive are accepted and acknowledged as on a server without handlers.
// Events records every event with the handler's status.
//
// Set handlers before the hub's first client connects: the handshake runs
// once per hub, as the service runs it once per URL, so SetEventHandler
// fails for a hub whose events have started. h must honour its request's
// context: the server stops waiting when an event times out (see
// WithEventHandlerTimeout), and Close waits for h to return.
func (s *Server) SetEventHandler(hub string, h http.Handler, opts ...EventHandlerOption) error {
	if h == nil {
		return errors.New("webpubsubtest: SetEventHandler: the handler is nil")
	}
	r := &route{handler: h, template: DefaultEventPath}
	for _, o := range opts {
		o(r)
	}
	if !strings.HasPrefix(r.template, "/") {
		return fmt.Errorf("webpubsubtest: WithEventPath(%q): the path must start with /", r.template)
	}
	return s.transport.set(hub, r, "http://"+inProcessHost+r.template)
}

// SetEventHandlerURL sends the events of hub ("*" for every hub without a
// handler of its own) to an event handler listening at urlTemplate, for
// example an app the test started on a loopback port:
// http://127.0.0.1:8080/eventhandler/{event}. {event} is replaced by the
// event name and {hub} by the hub name. It behaves as SetEventHandler
// otherwise.
func (s *Server) SetEventHandlerURL(hub, urlTemplate string, opts ...EventHandlerOption) error {
	r := &route{template: urlTemplate}
	for _, o := range opts {
		o(r)
	}
	if r.pathSet {
		return errors.New("webpubsubtest: WithEventPath applies to SetEventHandler only: put the path in SetEventHandlerURL's URL")
	}
	return s.transport.set(hub, r, urlTemplate)
}

// upstreamTransport carries the emulator's requests to event handlers: to
// the hub's in-process handler or URL, or, for events no handler asked
// for, answers them itself. It records every event it delivers.
type upstreamTransport struct {
	s       *Server
	network *http.Transport
	running sync.WaitGroup // in-process handlers still serving

	mu      sync.Mutex
	routes  map[string]*route // by hub; "*" for the rest
	started map[string]bool   // hubs whose handshake ran
}

func newUpstreamTransport(s *Server) *upstreamTransport {
	return &upstreamTransport{s: s, network: wire.HTTPTransport(),
		routes: map[string]*route{}, started: map[string]bool{}}
}

// emulatorOptions route every event of every hub through t.
func (t *upstreamTransport) emulatorOptions(timeout time.Duration) []emulator.Option {
	all := emulator.UpstreamSetting{Hub: "*", URLTemplate: "http://" + eventsHost + "/{hub}/{event}", UserEventPattern: "*",
		SystemEvents: []string{EventConnect, EventConnected, EventDisconnected}}
	opts := []emulator.Option{emulator.WithUpstream(all), emulator.WithUpstreamTransport(t)}
	if timeout != 0 {
		opts = append(opts, emulator.WithUpstreamTimeout(timeout))
	}
	return opts
}

// set checks r with the emulator's own rules for event handler settings
// (probing with probeURL) and routes hub's events to it.
func (t *upstreamTransport) set(hub string, r *route, probeURL string) error {
	entry := map[string]any{"hub": hub, "urlTemplate": probeURL}
	if r.userEvents != nil {
		entry["userEventPattern"] = strings.Join(r.userEvents, ",")
	}
	if r.system == nil {
		r.system = []string{EventConnect, EventConnected, EventDisconnected}
	}
	entry["systemEvents"] = r.system
	doc, err := json.Marshal(map[string]any{"eventHandlers": []any{entry}})
	if err != nil {
		return fmt.Errorf("webpubsubtest: %w", err)
	}
	parsed, err := emulator.ParseUpstreamConfig(doc)
	if err != nil {
		return fmt.Errorf("webpubsubtest: %w", err)
	}
	r.system = parsed[0].SystemEvents // normalized
	switch pattern := parsed[0].UserEventPattern; {
	case r.userEvents == nil || pattern == "*":
		r.userEvents = nil // every user event
	case pattern == "":
		r.userEvents = []string{} // none
	default:
		r.userEvents = strings.Split(pattern, ",")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started[hub] || (hub == "*" && len(t.started) > 0) {
		return fmt.Errorf("webpubsubtest: the events of hub %q have started: set its event handler before its first client connects", hub)
	}
	t.routes[hub] = r
	return nil
}

// route returns the route of hub's event, or nil when no handler wants it.
// A handshake marks the hub as started.
func (t *upstreamTransport) route(hub, event string, system, handshake bool) *route {
	t.mu.Lock()
	defer t.mu.Unlock()
	if handshake {
		t.started[hub] = true
	}
	r := t.routes[hub]
	if r == nil {
		r = t.routes["*"]
	}
	switch {
	case r == nil:
		return nil
	case handshake:
		return r
	case system:
		if !slices.Contains(r.system, event) {
			return nil
		}
	case r.userEvents != nil && !slices.Contains(r.userEvents, event):
		return nil
	}
	return r
}

// RoundTrip delivers r and records the event it carries.
func (t *upstreamTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	hub, event, ok := splitEventPath(r.URL)
	if !ok {
		return nil, fmt.Errorf("webpubsubtest: unexpected event handler URL %s", r.URL.Redacted())
	}
	system := strings.HasPrefix(r.Header.Get(wire.HeaderCEType), wire.CETypeSystemPrefix)
	rt := t.route(hub, event, system, r.Method == http.MethodOptions)
	if rt == nil {
		if r.Method == http.MethodPost && !system {
			t.s.recordCloudEvent(r.Header, body, 0)
		}
		return selfAnswer(r), nil
	}
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	target, err := url.Parse(expandTemplate(rt.template, hub, event))
	if err != nil {
		return nil, fmt.Errorf("webpubsubtest: event handler URL: %w", err)
	}
	var resp *http.Response
	if rt.handler != nil {
		out.URL = &url.URL{Scheme: "http", Host: inProcessHost, Path: target.Path, RawPath: target.RawPath, RawQuery: target.RawQuery}
		resp, err = t.serve(rt.handler, out)
	} else {
		out.URL, out.Host = target, ""
		resp, err = t.network.RoundTrip(out)
	}
	if r.Method == http.MethodPost {
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		t.s.recordCloudEvent(r.Header, body, status)
	}
	return resp, err
}

// splitEventPath reads the hub and the event from /{hub}/{event}.
func splitEventPath(u *url.URL) (hub, event string, ok bool) {
	h, e, ok := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if !ok || u.Host != eventsHost {
		return "", "", false
	}
	hub, err1 := url.PathUnescape(h)
	event, err2 := url.PathUnescape(e)
	return hub, event, err1 == nil && err2 == nil
}

// expandTemplate fills {event} and {hub} as the emulator does.
func expandTemplate(template, hub, event string) string {
	return strings.NewReplacer(wire.CEURLEventPlaceholder, url.PathEscape(event), wire.CEURLHubPlaceholder, url.PathEscape(hub)).Replace(template)
}

// CloseIdleConnections closes the idle connections to handlers at URLs.
func (t *upstreamTransport) CloseIdleConnections() { t.network.CloseIdleConnections() }

// serve runs an in-process handler for r, as net/http would: a panic in
// the handler is a dropped connection, and the caller stops waiting when
// r's context ends.
func (t *upstreamTransport) serve(h http.Handler, r *http.Request) (*http.Response, error) {
	r.RequestURI = r.URL.RequestURI()
	r.Host = r.URL.Host
	r.RemoteAddr = "127.0.0.1:0"
	rec := httptest.NewRecorder()
	done := make(chan any, 1)
	t.running.Add(1)
	go func() {
		defer t.running.Done()
		defer func() { done <- recover() }()
		h.ServeHTTP(rec, r)
	}()
	select {
	case p := <-done:
		if p != nil {
			return nil, fmt.Errorf("the event handler panicked: %v", p)
		}
		return rec.Result(), nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

// selfAnswer answers an event no handler asked for as a server without
// handlers behaves: the handshake passes, a connect is accepted as the
// token says, and every other event is acknowledged without a reply.
func selfAnswer(r *http.Request) *http.Response {
	h := http.Header{}
	status := http.StatusNoContent
	if r.Method == http.MethodOptions {
		h.Set(wire.HeaderWebHookAllowedOrigin, wire.CEAllowAllOrigins)
		status = http.StatusOK
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Body: http.NoBody,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: r}
}

// recordCloudEvent records an event the server sent upstream.
func (s *Server) recordCloudEvent(h http.Header, body []byte, status int) {
	dataType, ok := wire.CEDataType(h.Get(wire.HeaderContentType))
	if !ok {
		dataType = wire.DataTypeJSON
	}
	s.addEvent(Event{
		Hub: h.Get(wire.HeaderCEHub), ConnectionID: h.Get(wire.HeaderCEConnectionID), UserID: h.Get(wire.HeaderCEUserID),
		Name: h.Get(wire.HeaderCEEventName), DataType: eventhandler.DataType(dataType), Data: body,
		System: strings.HasPrefix(h.Get(wire.HeaderCEType), wire.CETypeSystemPrefix), Status: status,
	})
}
