package eventhandler

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// Handler is an http.Handler that receives the CloudEvents the Web PubSub
// service sends for one hub and calls the matching Handlers callback. Create
// it with New; it is safe for concurrent use.
type Handler struct {
	hub      string
	handlers Handlers
	cfg      config
}

// New returns a Handler for hub. Mount it on any mux at the path configured
// as the hub's event handler URL, e.g. mux.Handle("/eventhandler", h).
//
// By default New requires an access key (WithConnectionString or
// WithAccessKeys) to check request signatures, and an allowed origin
// (WithConnectionString or WithAllowedOrigins); WithoutSignatureValidation
// and WithAllowedOrigins("*") relax that explicitly.
func New(hub string, handlers Handlers, opts ...Option) (*Handler, error) {
	if strings.TrimSpace(hub) == "" {
		return nil, errors.New("eventhandler: the hub name is empty; pass the hub whose events this handler serves")
	}
	cfg := config{maxBodyBytes: DefaultMaxBodyBytes}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if len(cfg.errs) > 0 {
		return nil, fmt.Errorf("eventhandler: %w", errors.Join(cfg.errs...))
	}
	if len(cfg.keys) == 0 && !cfg.noSignature {
		return nil, errors.New("eventhandler: no access key to check ce-signature: use WithConnectionString or WithAccessKeys " +
			"(or WithoutSignatureValidation when a trusted proxy authenticates the service)")
	}
	if len(cfg.origins) == 0 && !cfg.allowAll {
		return nil, errors.New("eventhandler: no allowed origin for the abuse-protection handshake: use WithConnectionString " +
			`or WithAllowedOrigins("<name>.webpubsub.azure.com") (or WithAllowedOrigins("*"))`)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{hub: hub, handlers: handlers, cfg: cfg}, nil
}

// Hub returns the hub the handler serves.
func (h *Handler) Hub() string { return h.hub }

// ServeHTTP answers the abuse-protection handshake (OPTIONS) and events
// (POST); any other method gets 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		h.serveValidation(w, r)
	case http.MethodPost:
		h.serveEvent(w, r)
	default:
		w.Header().Set("Allow", "OPTIONS, POST")
		h.refuse(w, r, &requestError{http.StatusMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed: the service sends events with POST and validates with OPTIONS", r.Method)})
	}
}

// serveValidation answers the CloudEvents abuse-protection handshake.
func (h *Handler) serveValidation(w http.ResponseWriter, r *http.Request) {
	values := r.Header.Values(wire.HeaderWebHookRequestOrigin)
	if len(values) == 0 {
		h.refuse(w, r, &requestError{http.StatusBadRequest,
			"missing WebHook-Request-Origin header: not an abuse-protection request"})
		return
	}
	origin, ok := h.cfg.allowedOrigin(values)
	if !ok {
		h.refuse(w, r, originError(values))
		return
	}
	if h.cfg.allowAll {
		origin = wire.CEAllowAllOrigins
	}
	w.Header().Set(wire.HeaderWebHookAllowedOrigin, origin)
	w.WriteHeader(http.StatusOK)
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelDebug, "eventhandler: abuse-protection request allowed",
		slog.String("hub", h.hub), slog.String("origin", origin))
}

func originError(values []string) *requestError {
	more := ""
	if len(values) > 1 {
		more = fmt.Sprintf(" (and %d more values)", len(values)-1)
	}
	return &requestError{http.StatusForbidden, fmt.Sprintf(
		"WebHook-Request-Origin %s%s is not an allowed origin: allow the service host with WithConnectionString or WithAllowedOrigins",
		quote(values[0]), more)}
}

// serveEvent checks and decodes a POSTed event and dispatches it.
func (h *Handler) serveEvent(w http.ResponseWriter, r *http.Request) {
	ev, rerr := h.parse(w, r)
	if rerr != nil {
		h.refuse(w, r, rerr)
		return
	}
	ctx := r.Context()
	meta := ev.context()
	h.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "eventhandler: event received",
		slog.String("hub", meta.Hub), slog.String("connectionId", meta.ConnectionID),
		slog.String("event", meta.EventName), slog.String("userId", meta.UserID))

	switch e := ev.(type) {
	case *ConnectRequest:
		if h.handlers.OnConnect == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		resp, err := h.handlers.OnConnect(ctx, e)
		h.writeConnect(w, r, e, resp, err)
	case *UserEvent:
		if h.handlers.OnEvent == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		resp, err := h.handlers.OnEvent(ctx, e)
		h.writeUserEvent(w, r, e, resp, err)
	case *ConnectedEvent:
		if h.handlers.OnConnected != nil {
			h.handlers.OnConnected(ctx, e)
		}
		w.WriteHeader(http.StatusOK)
	case *DisconnectedEvent:
		if h.handlers.OnDisconnected != nil {
			h.handlers.OnDisconnected(ctx, e)
		}
		w.WriteHeader(http.StatusOK)
	}
}

func (h *Handler) writeConnect(w http.ResponseWriter, r *http.Request, req *ConnectRequest, resp *ConnectResponse, err error) {
	if err != nil {
		if req.MQTT != nil {
			h.writeMQTTConnectError(w, r, req, err)
			return
		}
		h.writeCallbackError(w, r, &req.ConnectionContext, err)
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if resp.Subprotocol != "" && !contains(req.Subprotocols, resp.Subprotocol) {
		h.writeBug(w, r, &req.ConnectionContext, fmt.Errorf(
			"OnConnect chose subprotocol %q, which the client did not offer (offered: %q)", resp.Subprotocol, req.Subprotocols))
		return
	}
	mqttProps := resp.MQTTUserProperties
	if req.MQTT == nil {
		mqttProps = nil // a WebSocket client has no CONNACK
	}
	if err := checkConnectResponse(resp, mqttProps); err != nil {
		h.writeBug(w, r, &req.ConnectionContext, err)
		return
	}
	if !h.writeState(w, r, &req.ConnectionContext, &resp.StateUpdate) {
		return
	}
	if resp.UserID == "" && len(resp.Groups) == 0 && len(resp.Roles) == 0 && resp.Subprotocol == "" && len(mqttProps) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	answer := wire.CEMQTTConnectResponse{CEConnectResponse: wire.CEConnectResponse{
		UserID: resp.UserID, Groups: resp.Groups, Roles: resp.Roles, Subprotocol: resp.Subprotocol,
	}}
	if len(mqttProps) > 0 {
		answer.MQTT = &wire.CEMQTTConnectResponseProperties{UserProperties: wireUserProperties(mqttProps)}
	}
	body, err := json.Marshal(answer)
	if err != nil { // only strings and string slices: cannot fail
		h.writeBug(w, r, &req.ConnectionContext, fmt.Errorf("encode connect response: %w", err))
		return
	}
	w.Header().Set(wire.HeaderContentType, wire.ContentTypeJSON+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (h *Handler) writeUserEvent(w http.ResponseWriter, r *http.Request, ev *UserEvent, resp *EventResponse, err error) {
	if err != nil {
		h.writeCallbackError(w, r, &ev.ConnectionContext, err)
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	dataType := resp.DataType
	if dataType == "" {
		dataType = DataBinary
	}
	contentType, ok := wire.CEContentType(string(dataType))
	if !ok {
		h.writeBug(w, r, &ev.ConnectionContext, fmt.Errorf(
			"OnEvent replied with data type %q: use DataText, DataJSON or DataBinary", resp.DataType))
		return
	}
	if dataType == DataJSON && !json.Valid(resp.Data) {
		h.writeBug(w, r, &ev.ConnectionContext, errors.New("OnEvent replied with DataJSON data that is not valid JSON"))
		return
	}
	if dataType != DataBinary && !utf8.Valid(resp.Data) {
		h.writeBug(w, r, &ev.ConnectionContext, fmt.Errorf(
			"OnEvent replied with %s data that is not valid UTF-8: the client receives it in a text frame; use DataBinary for bytes", dataType))
		return
	}
	if !h.writeState(w, r, &ev.ConnectionContext, &resp.StateUpdate) {
		return
	}
	if resp.DataType == "" && len(resp.Data) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if dataType != DataBinary {
		contentType += "; charset=utf-8"
	}
	w.Header().Set(wire.HeaderContentType, contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp.Data)
}

// checkConnectResponse refuses an OnConnect answer the service would refuse
// or read differently: JSON encoding turns invalid UTF-8 into U+FFFD, which
// would silently name another user, group or role.
func checkConnectResponse(resp *ConnectResponse, mqttProps []MQTTUserProperty) error {
	if !utf8.ValidString(resp.UserID) {
		return errors.New("OnConnect returned a UserID that is not valid UTF-8")
	}
	for i, g := range resp.Groups {
		switch n := utf8.RuneCountInString(g); {
		case !utf8.ValidString(g):
			return fmt.Errorf("OnConnect returned group %d that is not valid UTF-8", i+1)
		case strings.TrimSpace(g) == "":
			return fmt.Errorf("OnConnect returned group %d that is empty or only whitespace", i+1)
		case n > wire.MaxGroupNameChars:
			return fmt.Errorf("OnConnect returned group %d of %d characters: the service allows at most %d", i+1, n, wire.MaxGroupNameChars)
		}
	}
	for i, role := range resp.Roles {
		if role == "" || !utf8.ValidString(role) {
			return fmt.Errorf("OnConnect returned role %d that is empty or not valid UTF-8", i+1)
		}
	}
	for i, p := range mqttProps {
		if !utf8.ValidString(p.Name) || !utf8.ValidString(p.Value) {
			return fmt.Errorf("OnConnect returned MQTT user property %d that is not valid UTF-8 (MQTT requires UTF-8 strings)", i+1)
		}
	}
	return nil
}

// writeState sets the ce-connectionState header when the response changed
// the state. It reports false after answering 500.
func (h *Handler) writeState(w http.ResponseWriter, r *http.Request, meta *ConnectionContext, u *StateUpdate) bool {
	next, changed := u.apply(meta.State)
	if !changed {
		return true
	}
	v, err := encodeState(next)
	if err != nil {
		h.writeBug(w, r, meta, err)
		return false
	}
	w.Header().Set(wire.HeaderCEConnectionState, v)
	return true
}

// writeCallbackError answers a callback's error: a *RejectError's status and
// message, or 500 with a generic message for any other error.
func (h *Handler) writeCallbackError(w http.ResponseWriter, r *http.Request, meta *ConnectionContext, err error) {
	var mrej *MQTTRejectError
	if errors.As(err, &mrej) {
		err = &RejectError{StatusCode: mrej.status(), Message: mrej.Reason}
	}
	var rej *RejectError
	if errors.As(err, &rej) {
		status := rej.status()
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "eventhandler: callback rejected the event",
			slog.String("hub", meta.Hub), slog.String("connectionId", meta.ConnectionID),
			slog.String("event", meta.EventName), slog.Int("status", status), slog.String("message", rej.Message))
		http.Error(w, rej.Message, status)
		return
	}
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "eventhandler: callback failed",
		slog.String("hub", meta.Hub), slog.String("connectionId", meta.ConnectionID),
		slog.String("event", meta.EventName), slog.String("error", err.Error()))
	http.Error(w, "the event handler failed", http.StatusInternalServerError)
}

// writeMQTTConnectError answers an OnConnect error for an MQTT client with
// a CONNACK code in the body: the code of a *MQTTRejectError, the code the
// status of a *RejectError maps to, or a server error for any other error.
func (h *Handler) writeMQTTConnectError(w http.ResponseWriter, r *http.Request, req *ConnectRequest, err error) {
	meta := &req.ConnectionContext
	status, reason := http.StatusInternalServerError, "the event handler failed"
	var code MQTTConnectCode
	var props []MQTTUserProperty
	var mrej *MQTTRejectError
	var rej *RejectError
	switch {
	case errors.As(err, &mrej):
		status, code, reason, props = mrej.status(), mrej.Code, mrej.Reason, mrej.UserProperties
	case errors.As(err, &rej):
		status, reason = rej.status(), rej.Message
		code = MQTTConnectCode(wire.MQTTConnectCodeForStatus(status, req.MQTT.ProtocolVersion))
	default:
		code = MQTTConnectCode(wire.MQTTConnectCodeForStatus(status, req.MQTT.ProtocolVersion))
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "eventhandler: callback failed",
			slog.String("hub", meta.Hub), slog.String("connectionId", meta.ConnectionID),
			slog.String("event", meta.EventName), slog.String("error", err.Error()))
		writeMQTTConnectFailure(w, status, code, reason, nil)
		return
	}
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "eventhandler: callback rejected the MQTT connect",
		slog.String("hub", meta.Hub), slog.String("connectionId", meta.ConnectionID),
		slog.Int("status", status), slog.Int("mqttCode", int(code)), slog.String("message", reason))
	writeMQTTConnectFailure(w, status, code, reason, props)
}

// writeBug answers 500 for a response the callback built wrongly.
func (h *Handler) writeBug(w http.ResponseWriter, r *http.Request, meta *ConnectionContext, err error) {
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "eventhandler: invalid callback response",
		slog.String("hub", meta.Hub), slog.String("connectionId", meta.ConnectionID),
		slog.String("event", meta.EventName), slog.String("error", err.Error()))
	http.Error(w, "the event handler failed", http.StatusInternalServerError)
}

// refuse answers a request that never reaches a callback.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, e *requestError) {
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "eventhandler: request refused",
		slog.String("hub", h.hub), slog.String("method", r.Method),
		slog.String("connectionId", clip(r.Header.Get(wire.HeaderCEConnectionID))),
		slog.String("type", clip(r.Header.Get(wire.HeaderCEType))),
		slog.Int("status", e.status), slog.String("reason", e.reason))
	http.Error(w, e.reason, e.status)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// RejectError is a callback's refusal with the status and message the
// service passes on: for connect, to the client as the handshake's response;
// for a user event, the service drops the connection. Create it with Reject.
type RejectError struct {
	// StatusCode is the HTTP status of the answer: 400, 401, 403 or 500.
	StatusCode int
	// Message is the one-line reason passed on with it.
	Message string
}

// Reject returns an error that answers an event with status and message.
// The statuses the service understands are 400 (bad request), 401
// (unauthorized), 403 (forbidden) and 500 (server error); another 4xx is
// sent as 400 and anything else as 500.
func Reject(status int, message string) error {
	return &RejectError{StatusCode: status, Message: message}
}

// Error describes the rejection.
func (e *RejectError) Error() string {
	return fmt.Sprintf("eventhandler: rejected with status %d: %s", e.status(), e.Message)
}

func (e *RejectError) status() int {
	switch {
	case e.StatusCode == http.StatusBadRequest, e.StatusCode == http.StatusUnauthorized,
		e.StatusCode == http.StatusForbidden, e.StatusCode == http.StatusInternalServerError:
		return e.StatusCode
	case e.StatusCode >= 400 && e.StatusCode < 500:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
