package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

const (
	// validationRetryInterval is how long a failed abuse-protection
	// handshake refuses events before it is tried again, so an app may
	// start after the emulator.
	validationRetryInterval = 5 * time.Second
	// maxUpstreamHeaderBytes bounds an event handler's response headers
	// (and so the connection state it may set).
	maxUpstreamHeaderBytes = 64 << 10
	// pendingConnectTTL is how long the dispatcher keeps what it knows of
	// a client whose handshake never completed.
	pendingConnectTTL = time.Minute
)

// dispatcher delivers client events to event handlers as signed CloudEvents
// in binary content mode. It implements EventHandler, ConnectHandler and
// LifecycleHandler, and keeps the connection state handlers set
// (ce-connectionState) to send it with later events of the connection.
type dispatcher struct {
	settings []UpstreamSetting
	keys     []string
	origin   string // fixed WebHook-Request-Origin; "" to use the client's Host
	timeout  time.Duration
	retry    time.Duration // validationRetryInterval, shorter in tests
	client   *http.Client
	logger   *slog.Logger

	mu          sync.Mutex
	conns       map[connRef]*upstreamConn
	validations map[validationKey]*validation
	swept       time.Time // last sweep of conns for clients that never connected
}

// upstreamConn is what the dispatcher keeps for one connection.
type upstreamConn struct {
	origin    string
	state     string
	hasState  bool
	announced bool // HandleConnected ran; HandleDisconnected will follow
	created   time.Time
}

// validation is one abuse-protection handshake, shared by the events that
// wait for it.
type validation struct {
	done chan struct{}
	err  error
	at   time.Time
}

var (
	_ EventHandler     = (*dispatcher)(nil)
	_ ConnectHandler   = (*dispatcher)(nil)
	_ LifecycleHandler = (*dispatcher)(nil)
)

func newDispatcher(settings []UpstreamSetting, keys []string, origin string, timeout time.Duration, logger *slog.Logger) *dispatcher {
	transport := wire.HTTPTransport()
	transport.MaxResponseHeaderBytes = maxUpstreamHeaderBytes
	return &dispatcher{
		settings: settings,
		keys:     keys,
		origin:   origin,
		timeout:  timeout,
		retry:    validationRetryInterval,
		client: &http.Client{
			Transport: transport,
			// The service does not follow redirects: a 3xx is a failure.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger:      logger,
		conns:       map[connRef]*upstreamConn{},
		validations: map[validationKey]*validation{},
	}
}

// closeIdle drops the dispatcher's idle HTTP connections.
func (d *dispatcher) closeIdle() { d.client.CloseIdleConnections() }

// connRef and validationKey are map keys of two parts; a struct, not a
// joined string, so that no value of one part can run into the other.
type connRef struct{ hub, id string }

type validationKey struct{ url, origin string }

func connKey(hub, id string) connRef { return connRef{hub, id} }

func (d *dispatcher) userSetting(hub, name string) *UpstreamSetting {
	for i := range d.settings {
		if d.settings[i].matchesUser(hub, name) {
			return &d.settings[i]
		}
	}
	return nil
}

func (d *dispatcher) systemSetting(hub, name string) *UpstreamSetting {
	for i := range d.settings {
		if d.settings[i].matchesSystem(hub, name) {
			return &d.settings[i]
		}
	}
	return nil
}

// connection returns the origin and the state of a connection.
func (d *dispatcher) connection(hub, id string) (origin, state string, hasState bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.conns[connKey(hub, id)]; c != nil {
		return c.origin, c.state, c.hasState
	}
	return d.origin, "", false
}

// setState stores the connection state a handler answered with, if it
// answered one. An empty ce-connectionState clears the state. The state of
// a connection that has ended is not kept.
func (d *dispatcher) setState(hub, id string, h http.Header) {
	values, ok := h[http.CanonicalHeaderKey(wire.HeaderCEConnectionState)]
	if !ok {
		return
	}
	v := strings.Join(values, ",")
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.conns[connKey(hub, id)]; c != nil {
		c.state, c.hasState = v, v != ""
	}
}

// event is one CloudEvent to deliver.
type event struct {
	hub, connectionID, userID, subprotocol string
	name, ceType                           string
	contentType                            string
	body                                   []byte
	physicalConnectionID, sessionID        string // MQTT clients only
}

// answer is an event handler's HTTP response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// deliveryError is a failed delivery: the handler could not be reached,
// did not answer in time, refused the handshake or answered an error. It
// closes the connection of a user event (ErrCloseConnection) and is a
// timeout when the deadline passed.
type deliveryError struct {
	msg     string
	timeout bool
}

func (e *deliveryError) Error() string { return e.msg }

// Is makes the error match ErrCloseConnection, and
// context.DeadlineExceeded for a timeout.
func (e *deliveryError) Is(target error) bool {
	return target == ErrCloseConnection || (e.timeout && target == context.DeadlineExceeded)
}

// deliver validates the handler URL and POSTs ev to it.
func (d *dispatcher) deliver(ctx context.Context, s *UpstreamSetting, ev event) (*answer, error) {
	origin, state, hasState := d.connection(ev.hub, ev.connectionID)
	if origin == "" {
		origin = "localhost"
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if err := d.validate(ctx, s, ev.hub, origin); err != nil {
		return nil, err
	}
	target := expandTemplate(s.URLTemplate, ev.hub, ev.name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(ev.body))
	if err != nil {
		return nil, &deliveryError{msg: fmt.Sprintf("event handler URL %s: %v", redactURL(target), err)}
	}
	h := req.Header
	h.Set(wire.HeaderContentType, ev.contentType)
	h.Set(wire.HeaderCESpecVersion, wire.CESpecVersion)
	h.Set(wire.HeaderCEAWPSVersion, wire.CEAWPSVersion)
	h.Set(wire.HeaderCEType, ev.ceType)
	h.Set(wire.HeaderCESource, wire.CESource(ev.hub, ev.connectionID))
	h.Set(wire.HeaderCEID, newEventID())
	h.Set(wire.HeaderCETime, time.Now().UTC().Format(time.RFC3339Nano))
	h.Set(wire.HeaderCEHub, ev.hub)
	h.Set(wire.HeaderCEConnectionID, ev.connectionID)
	h.Set(wire.HeaderCEEventName, ev.name)
	if ev.userID != "" {
		h.Set(wire.HeaderCEUserID, ev.userID)
	}
	if ev.subprotocol != "" {
		h.Set(wire.HeaderCESubprotocol, ev.subprotocol)
	}
	if hasState {
		h.Set(wire.HeaderCEConnectionState, state)
	}
	if ev.physicalConnectionID != "" {
		h.Set(wire.HeaderCEPhysicalConnectionID, ev.physicalConnectionID)
	}
	if ev.sessionID != "" {
		h.Set(wire.HeaderCESessionID, ev.sessionID)
	}
	h.Set(wire.HeaderCESignature, wire.CESignatureHeader(ev.connectionID, d.keys...))
	h.Set(wire.HeaderWebHookRequestOrigin, origin)

	start := time.Now()
	a, err := d.do(req)
	if err != nil {
		d.logger.Warn("event handler delivery failed", "hub", ev.hub, "event", ev.name, "connectionId", ev.connectionID,
			"url", redactURL(target), "error", err.Error(), "duration", time.Since(start))
		return nil, err
	}
	d.logger.Debug("event delivered", "hub", ev.hub, "event", ev.name, "connectionId", ev.connectionID,
		"url", redactURL(target), "status", a.status, "duration", time.Since(start))
	return a, nil
}

// do sends req and reads the answer, at most MaxUpstreamResponseBytes.
// Errors never hold the URL's query.
func (d *dispatcher) do(req *http.Request) (*answer, error) {
	target := redactURL(req.URL.String())
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, transportError(req.Context(), target, d.timeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxUpstreamResponseBytes+1))
	if err != nil {
		return nil, transportError(req.Context(), target, d.timeout, err)
	}
	if len(body) > MaxUpstreamResponseBytes {
		return nil, &deliveryError{msg: fmt.Sprintf("the event handler %s answered more than %d bytes", target, MaxUpstreamResponseBytes)}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// transportError describes a request that got no answer, without the
// URL's query (net/http errors quote the whole URL).
func transportError(ctx context.Context, target string, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return &deliveryError{msg: fmt.Sprintf("the event handler %s did not answer within %v", target, timeout), timeout: true}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return &deliveryError{msg: fmt.Sprintf("the request to the event handler %s was cancelled", target)}
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return &deliveryError{msg: fmt.Sprintf("the event handler %s is unreachable: %s %v", target, op.Op, op.Err)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the rest of a *url.Error is the whole URL
	}
	return &deliveryError{msg: fmt.Sprintf("the event handler %s failed: %v", target, err)}
}

// validate runs the abuse-protection handshake for the setting's URL once
// per origin: OPTIONS to the URL with {event} = "validate", carrying
// WebHook-Request-Origin; the handler must answer 2xx with
// WebHook-Allowed-Origin naming the origin or "*". Concurrent events wait
// for one handshake. A failure refuses events for validationRetryInterval,
// then the handshake is tried again.
func (d *dispatcher) validate(ctx context.Context, s *UpstreamSetting, hub, origin string) error {
	target := expandTemplate(s.URLTemplate, hub, wire.CEEventValidate)
	key := validationKey{target, origin}
	for {
		d.mu.Lock()
		v := d.validations[key]
		if v == nil {
			v = &validation{done: make(chan struct{})}
			d.validations[key] = v
			d.mu.Unlock()
			v.err = d.handshake(ctx, target, hub, origin)
			v.at = time.Now()
			if v.err != nil && ctx.Err() != nil {
				// Our own deadline, not the handler's answer: let the
				// next event try again.
				d.mu.Lock()
				delete(d.validations, key)
				d.mu.Unlock()
			}
			close(v.done)
			return v.err
		}
		d.mu.Unlock()
		select {
		case <-v.done:
		case <-ctx.Done():
			return transportError(ctx, redactURL(target), d.timeout, ctx.Err())
		}
		if v.err == nil {
			return nil
		}
		d.mu.Lock()
		stale := time.Since(v.at) >= d.retry && d.validations[key] == v
		if stale {
			delete(d.validations, key)
		}
		d.mu.Unlock()
		if !stale {
			return v.err
		}
	}
}

// handshake sends the abuse-protection OPTIONS request.
func (d *dispatcher) handshake(ctx context.Context, target, hub, origin string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, target, nil)
	if err != nil {
		return &deliveryError{msg: fmt.Sprintf("event handler URL %s: %v", redactURL(target), err)}
	}
	req.Header.Set(wire.HeaderWebHookRequestOrigin, origin)
	req.Header.Set(wire.HeaderCEAWPSVersion, wire.CEAWPSVersion)
	a, err := d.do(req)
	if err == nil && (a.status < 200 || a.status > 299 || !originAllowed(a.header, origin)) {
		err = &deliveryError{msg: fmt.Sprintf("the event handler %s failed the abuse-protection validation: OPTIONS answered %d with %s %q, want %q or %q; events to it are refused",
			redactURL(target), a.status, wire.HeaderWebHookAllowedOrigin, strings.Join(a.header.Values(wire.HeaderWebHookAllowedOrigin), ","), origin, wire.CEAllowAllOrigins)}
	}
	if err != nil {
		d.logger.Error("event handler refused", "hub", hub, "url", redactURL(target), "origin", origin, "error", err.Error())
		return err
	}
	d.logger.Info("event handler validated", "hub", hub, "url", redactURL(target), "origin", origin)
	return nil
}

// originAllowed reports whether WebHook-Allowed-Origin (one or more
// values, each possibly a comma-separated list) names origin or "*".
func originAllowed(h http.Header, origin string) bool {
	for _, v := range h.Values(wire.HeaderWebHookAllowedOrigin) {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if o == wire.CEAllowAllOrigins || strings.EqualFold(o, origin) {
				return true
			}
		}
	}
	return false
}

// HandleConnect sends the blocking connect event when a setting asks for
// it, and turns the handler's answer into the client's fate.
func (d *dispatcher) HandleConnect(ctx context.Context, req ConnectRequest) (*ConnectResponse, error) {
	origin := d.origin
	if origin == "" {
		origin = firstValue(req.Headers, "Host")
	}
	d.track(req.Hub, req.ConnectionID, origin)
	s := d.systemSetting(req.Hub, wire.CEEventConnect)
	if s == nil {
		return nil, nil
	}
	resp, err := d.connect(ctx, s, req)
	if err != nil {
		d.forget(req.Hub, req.ConnectionID)
	}
	return resp, err
}

// connect delivers the connect event. An MQTT client's rejection carries
// the CONNACK code the handler chose, or the one its status maps to.
func (d *dispatcher) connect(ctx context.Context, s *UpstreamSetting, req ConnectRequest) (*ConnectResponse, error) {
	resp, err := d.connectEvent(ctx, s, req)
	var ce *ConnectError
	if req.MQTT != nil && errors.As(err, &ce) && ce.MQTTCode == 0 {
		ce.MQTTCode = wire.MQTTConnectCodeForStatus(ce.StatusCode, req.MQTT.ProtocolVersion)
	}
	return resp, err
}

func (d *dispatcher) connectEvent(ctx context.Context, s *UpstreamSetting, req ConnectRequest) (*ConnectResponse, error) {
	body := wire.CEConnectBody{
		Claims:             map[string]wire.CEStrings{},
		Query:              map[string]wire.CEStrings{},
		Headers:            map[string]wire.CEStrings{},
		Subprotocols:       append([]string{}, req.Subprotocols...),
		ClientCertificates: []wire.CEClientCertificate{},
	}
	for k, v := range req.Claims {
		body.Claims[k] = v
	}
	for k, v := range req.Query {
		body.Query[k] = v
	}
	for k, v := range req.Headers {
		body.Headers[k] = v
	}
	full := wire.CEMQTTConnectBody{CEConnectBody: body}
	ev := event{
		hub: req.Hub, connectionID: req.ConnectionID, userID: req.UserID,
		name: wire.CEEventConnect, ceType: wire.CETypeConnect, contentType: wire.ContentTypeJSON,
	}
	if m := req.MQTT; m != nil {
		full.MQTT = &wire.CEMQTTConnectProperties{ProtocolVersion: m.ProtocolVersion, Username: m.Username, UserProperties: m.UserProperties}
		if m.Password != nil {
			pw := base64.StdEncoding.EncodeToString(m.Password)
			full.MQTT.Password = &pw
		}
		ev.subprotocol, ev.physicalConnectionID = wire.SubprotocolMQTT, m.PhysicalConnectionID
	}
	data, err := json.Marshal(full)
	if err != nil {
		return nil, &ConnectError{StatusCode: http.StatusInternalServerError, Message: "cannot encode the connect event: " + err.Error()}
	}
	ev.body = data
	a, err := d.deliver(ctx, s, ev)
	if err != nil {
		return nil, &ConnectError{StatusCode: http.StatusInternalServerError, Message: "the connect event failed: " + err.Error()}
	}
	switch {
	case a.status >= 400 && a.status < 500:
		status := a.status
		if status != http.StatusBadRequest && status != http.StatusUnauthorized && status != http.StatusForbidden {
			status = http.StatusBadRequest
		}
		return nil, mqttRejection(req, a, &ConnectError{StatusCode: status, Message: fmt.Sprintf("the event handler rejected the connection (%d): %s", a.status, excerpt(a.body))})
	case a.status < 200 || a.status > 299:
		return nil, mqttRejection(req, a, &ConnectError{StatusCode: http.StatusInternalServerError, Message: fmt.Sprintf("the event handler answered the connect event with %d: %s", a.status, excerpt(a.body))})
	}
	d.setState(req.Hub, req.ConnectionID, a.header)
	if a.status != http.StatusOK || len(bytes.TrimSpace(a.body)) == 0 {
		return nil, nil
	}
	var cr wire.CEMQTTConnectResponse
	if err := json.Unmarshal(a.body, &cr); err != nil {
		return nil, &ConnectError{StatusCode: http.StatusInternalServerError, Message: fmt.Sprintf("the event handler's answer to the connect event is not the expected JSON object {userId, groups, roles, subprotocol}: %v", err)}
	}
	out := &ConnectResponse{Roles: cr.Roles, Groups: cr.Groups, Subprotocol: cr.Subprotocol}
	if cr.UserID != "" {
		out.UserID = &cr.UserID
	}
	if req.MQTT != nil && cr.MQTT != nil {
		out.MQTTUserProperties = cr.MQTT.UserProperties
	}
	return out, nil
}

// mqttRejection adds to an MQTT client's rejection what the handler's body
// says ({"mqtt": {"code", "reason", "userProperties"}}), when it says it.
func mqttRejection(req ConnectRequest, a *answer, ce *ConnectError) *ConnectError {
	if req.MQTT == nil {
		return ce
	}
	var f wire.CEMQTTConnectFailure
	if json.Unmarshal(a.body, &f) != nil || f.MQTT.Code == 0 {
		return ce
	}
	ce.MQTTCode, ce.MQTTUserProperties = f.MQTT.Code, f.MQTT.UserProperties
	if f.MQTT.Reason != "" {
		ce.Message = fmt.Sprintf("the event handler rejected the connection (%d, MQTT code %#02x): %s", a.status, f.MQTT.Code, excerpt([]byte(f.MQTT.Reason)))
	}
	return ce
}

// track remembers a connecting client, and forgets clients whose handshake
// never completed.
func (d *dispatcher) track(hub, id, origin string) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.swept) > pendingConnectTTL { // a sweep per TTL keeps connects O(1)
		d.swept = now
		for k, c := range d.conns {
			if !c.announced && now.Sub(c.created) > pendingConnectTTL {
				delete(d.conns, k)
			}
		}
	}
	d.conns[connKey(hub, id)] = &upstreamConn{origin: origin, created: now}
}

func (d *dispatcher) forget(hub, id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.conns, connKey(hub, id))
}

// HandleConnected sends the connected event when a setting asks for it.
// Failures are logged only.
func (d *dispatcher) HandleConnected(ctx context.Context, info ConnectionInfo) {
	d.mu.Lock()
	c := d.conns[connKey(info.Hub, info.ConnectionID)]
	if c == nil { // connected without a connect call: keep its state anyway
		c = &upstreamConn{origin: d.origin, created: time.Now()}
		d.conns[connKey(info.Hub, info.ConnectionID)] = c
	}
	c.announced = true
	d.mu.Unlock()
	d.notify(ctx, info, wire.CEEventConnected, wire.CETypeConnected, []byte("{}"))
}

// HandleDisconnected sends the disconnected event when a setting asks for
// it, then forgets the connection. Failures are logged only.
func (d *dispatcher) HandleDisconnected(ctx context.Context, info ConnectionInfo, reason string) {
	defer d.forget(info.Hub, info.ConnectionID)
	body := wire.CEMQTTDisconnectedBody{CEDisconnectedBody: wire.CEDisconnectedBody{Reason: reason}}
	if info.MQTT != nil {
		body.MQTT = info.MQTT.Disconnect
		if body.MQTT == nil {
			body.MQTT = &wire.CEMQTTDisconnectedProperties{}
		}
	}
	data, err := json.Marshal(body)
	if err != nil {
		d.logger.Error("cannot encode the disconnected event", "error", err.Error())
		return
	}
	d.notify(ctx, info, wire.CEEventDisconnected, wire.CETypeDisconnected, data)
}

// notify sends a non-blocking system event and logs a failure.
func (d *dispatcher) notify(ctx context.Context, info ConnectionInfo, name, ceType string, body []byte) {
	s := d.systemSetting(info.Hub, name)
	if s == nil {
		return
	}
	ev := event{
		hub: info.Hub, connectionID: info.ConnectionID, userID: info.UserID, subprotocol: info.Subprotocol,
		name: name, ceType: ceType, contentType: wire.ContentTypeJSON, body: body,
	}
	if info.MQTT != nil {
		ev.subprotocol = wire.SubprotocolMQTT
		ev.physicalConnectionID, ev.sessionID = info.MQTT.PhysicalConnectionID, info.MQTT.SessionID
	}
	a, err := d.deliver(ctx, s, ev)
	if err == nil && (a.status < 200 || a.status > 299) {
		d.logger.Warn("event handler failed a "+name+" event", "hub", info.Hub, "connectionId", info.ConnectionID,
			"url", redactURL(s.URLTemplate), "status", a.status, "body", excerpt(a.body))
	}
}

// HandleEvent sends a user event when a setting asks for it and returns
// the handler's answer as the reply to the client. Any failure closes the
// client's connection, as the service does.
func (d *dispatcher) HandleEvent(ctx context.Context, ev Event) (*Payload, error) {
	s := d.userSetting(ev.Hub, ev.Name)
	if s == nil {
		return nil, nil
	}
	contentType, ok := wire.CEContentType(ev.Payload.DataType)
	if !ok {
		return nil, &deliveryError{msg: fmt.Sprintf("data type %q cannot be sent to an event handler", ev.Payload.DataType)}
	}
	a, err := d.deliver(ctx, s, event{
		hub: ev.Hub, connectionID: ev.ConnectionID, userID: ev.UserID, subprotocol: ev.Subprotocol,
		name: ev.Name, ceType: wire.CEUserType(ev.Name), contentType: contentType, body: ev.Payload.Data,
	})
	if err != nil {
		return nil, err
	}
	if a.status < 200 || a.status > 299 {
		d.logger.Warn("event handler failed a user event; closing the connection", "hub", ev.Hub, "event", ev.Name,
			"connectionId", ev.ConnectionID, "status", a.status, "body", excerpt(a.body))
		return nil, &deliveryError{msg: fmt.Sprintf("the event handler answered %d to event %q: %s", a.status, ev.Name, excerpt(a.body))}
	}
	d.setState(ev.Hub, ev.ConnectionID, a.header)
	if a.status != http.StatusOK || len(a.body) == 0 {
		return nil, nil
	}
	ct := a.header.Get(wire.HeaderContentType)
	dataType, ok := wire.CEDataType(ct)
	if !ok {
		return nil, &deliveryError{msg: fmt.Sprintf("the event handler answered event %q with Content-Type %q: use %s, %s or %s",
			ev.Name, ct, wire.ContentTypeText, wire.ContentTypeJSON, wire.ContentTypeBinary)}
	}
	if dataType == wire.DataTypeJSON && !json.Valid(a.body) {
		return nil, &deliveryError{msg: fmt.Sprintf("the event handler answered event %q with invalid JSON", ev.Name)}
	}
	return &Payload{DataType: dataType, Data: a.body}, nil
}

// excerpt is the start of a response body on one line, for messages.
func excerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) { // drop a rune cut in half
			s = s[:len(s)-1]
		}
		s += "…"
	}
	if s == "" {
		return "(no body)"
	}
	return s
}

func firstValue(m map[string][]string, key string) string {
	for k, v := range m {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
