package eventhandler

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// requestError is a refused request: the status and the reason sent back.
type requestError struct {
	status int
	reason string
}

func badRequest(format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// event is one of *ConnectRequest, *ConnectedEvent, *UserEvent and
// *DisconnectedEvent.
type event interface{ context() *ConnectionContext }

func (c *ConnectionContext) context() *ConnectionContext { return c }

// requiredHeaders must be present on every POSTed event.
var requiredHeaders = []string{
	wire.HeaderCESpecVersion,
	wire.HeaderCEType,
	wire.HeaderCEHub,
	wire.HeaderCEConnectionID,
	wire.HeaderWebHookRequestOrigin,
}

// parse checks a POSTed event (headers, origin, hub, signature, then body)
// and decodes it. Nothing reaches a callback unless parse succeeds.
func (h *Handler) parse(w http.ResponseWriter, r *http.Request) (event, *requestError) {
	hdr := r.Header
	if hdr.Get(wire.HeaderCEAWPSVersion) == "" {
		return nil, badRequest("missing %s header: not a Web PubSub CloudEvents request", wire.HeaderCEAWPSVersion)
	}
	for _, name := range requiredHeaders {
		if hdr.Get(name) == "" {
			return nil, badRequest("missing %s header", name)
		}
	}
	if v := hdr.Get(wire.HeaderCESpecVersion); v != wire.CESpecVersion {
		return nil, badRequest("unsupported %s %s: want %q", wire.HeaderCESpecVersion, quote(v), wire.CESpecVersion)
	}
	origins := hdr.Values(wire.HeaderWebHookRequestOrigin)
	if _, ok := h.cfg.allowedOrigin(origins); !ok {
		return nil, originError(origins)
	}
	hub := hdr.Get(wire.HeaderCEHub)
	if !strings.EqualFold(hub, h.hub) {
		return nil, badRequest("the event is for hub %s but this handler serves hub %q", quote(hub), h.hub)
	}
	connectionID := hdr.Get(wire.HeaderCEConnectionID)
	signature := strings.Join(hdr.Values(wire.HeaderCESignature), ",")
	if !h.cfg.noSignature {
		if signature == "" {
			return nil, &requestError{http.StatusUnauthorized, "missing ce-signature header: the request is not signed"}
		}
		if !h.cfg.signatureValid(signature, connectionID) {
			return nil, &requestError{http.StatusUnauthorized, "ce-signature matches none of the configured access keys"}
		}
	}
	typ := hdr.Get(wire.HeaderCEType)
	name, rerr := eventName(typ, hdr.Get(wire.HeaderCEEventName))
	if rerr != nil {
		return nil, rerr
	}
	state, err := decodeState(hdr.Get(wire.HeaderCEConnectionState))
	if err != nil {
		return nil, badRequest("%v", err)
	}
	meta := ConnectionContext{
		Hub:          hub,
		ConnectionID: connectionID,
		UserID:       hdr.Get(wire.HeaderCEUserID),
		EventName:    name,
		Subprotocol:  hdr.Get(wire.HeaderCESubprotocol),
		Origin:       hdr.Get(wire.HeaderWebHookRequestOrigin),
		MQTT:         mqttConnection(hdr),
		State:        state,
		Signature:    Signature(signature),
		SpecVersion:  hdr.Get(wire.HeaderCESpecVersion),
		AWPSVersion:  hdr.Get(wire.HeaderCEAWPSVersion),
		Type:         typ,
		Source:       hdr.Get(wire.HeaderCESource),
		ID:           hdr.Get(wire.HeaderCEID),
		Time:         parseTime(hdr.Get(wire.HeaderCETime)),
	}
	body, rerr := h.readBody(w, r)
	if rerr != nil {
		return nil, rerr
	}
	switch typ {
	case wire.CETypeConnect:
		return parseConnect(meta, body)
	case wire.CETypeConnected:
		return &ConnectedEvent{ConnectionContext: meta}, nil
	case wire.CETypeDisconnected:
		return parseDisconnected(meta, body)
	}
	return parseUserEvent(meta, hdr.Get(wire.HeaderContentType), body)
}

// eventName returns the event's name: ce-eventName, which must agree with
// ce-type, or the name ce-type implies when the header is absent.
func eventName(typ, header string) (string, *requestError) {
	var implied string
	switch {
	case typ == wire.CETypeConnect || typ == wire.CETypeConnected || typ == wire.CETypeDisconnected:
		implied = strings.TrimPrefix(typ, wire.CETypeSystemPrefix)
	case strings.HasPrefix(typ, wire.CETypeUserPrefix) && len(typ) > len(wire.CETypeUserPrefix):
		implied = strings.TrimPrefix(typ, wire.CETypeUserPrefix)
	default:
		return "", badRequest("unsupported ce-type %s: want %s, %s, %s or %s<event>",
			quote(typ), wire.CETypeConnect, wire.CETypeConnected, wire.CETypeDisconnected, wire.CETypeUserPrefix)
	}
	if header == "" {
		return implied, nil
	}
	if !strings.EqualFold(header, implied) {
		return "", badRequest("ce-eventName %s does not match ce-type %s", quote(header), quote(typ))
	}
	return header, nil
}

// signatureValid reports whether any value of the ce-signature list equals
// the signature of connectionID under any configured key. Hex is compared
// case-insensitively, in constant time.
func (c *config) signatureValid(header, connectionID string) bool {
	for _, key := range c.keys {
		want := []byte(wire.SignCloudEvent(key, connectionID))
		for v := range strings.FieldsFuncSeq(header, func(r rune) bool { return r == ',' || r == ' ' }) {
			if hmac.Equal([]byte(strings.ToLower(v)), want) {
				return true
			}
		}
	}
	return false
}

// readBody reads the whole body, refusing more than the configured cap.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *requestError) {
	limit := h.cfg.maxBodyBytes
	tooLarge := &requestError{http.StatusRequestEntityTooLarge,
		fmt.Sprintf("the request body is larger than %d bytes (raise the cap with WithMaxBodyBytes)", limit)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, badRequest("reading the request body failed: %v", err)
	}
	return body, nil
}

func parseConnect(meta ConnectionContext, body []byte) (event, *requestError) {
	if !isJSONObject(body) {
		return nil, badRequest("the connect event's body is not a JSON object")
	}
	var b wire.CEMQTTConnectBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, badRequest("the connect event's body is not valid: %v", err)
	}
	req := &ConnectRequest{
		ConnectionContext: meta,
		Claims:            lists(b.Claims),
		Query:             lists(b.Query),
		Headers:           lists(b.Headers),
		Subprotocols:      b.Subprotocols,
	}
	for _, c := range b.ClientCertificates {
		req.ClientCertificates = append(req.ClientCertificates, ClientCertificate{Thumbprint: c.Thumbprint, Content: c.Content})
	}
	if meta.MQTT != nil {
		if b.MQTT == nil {
			return nil, badRequest("the MQTT connect event's body has no mqtt object")
		}
		props, rerr := mqttConnectProperties(b.MQTT)
		if rerr != nil {
			return nil, rerr
		}
		req.MQTT = props
	}
	return req, nil
}

func lists(m map[string]wire.CEStrings) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func parseDisconnected(meta ConnectionContext, body []byte) (event, *requestError) {
	ev := &DisconnectedEvent{ConnectionContext: meta}
	if len(bytes.TrimSpace(body)) == 0 {
		return ev, nil
	}
	if !isJSONObject(body) {
		return nil, badRequest("the disconnected event's body is not a JSON object")
	}
	var b wire.CEMQTTDisconnectedBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, badRequest("the disconnected event's body is not valid: %v", err)
	}
	ev.Reason = b.Reason
	if meta.MQTT != nil && b.MQTT != nil {
		ev.MQTT = mqttDisconnect(b.MQTT)
	}
	return ev, nil
}

func parseUserEvent(meta ConnectionContext, contentType string, body []byte) (event, *requestError) {
	dataType, ok := wire.CEDataType(contentType)
	if !ok {
		return nil, &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf(
			"unsupported Content-Type %s for a user event: want %s, %s or %s",
			quote(contentType), wire.ContentTypeJSON, wire.ContentTypeText, wire.ContentTypeBinary)}
	}
	if dataType == wire.DataTypeJSON && !json.Valid(body) {
		return nil, badRequest("the %s event's body is not valid JSON", quote(meta.EventName))
	}
	if body == nil {
		body = []byte{}
	}
	return &UserEvent{ConnectionContext: meta, DataType: DataType(dataType), Data: body}, nil
}

// maxQuoted is how many bytes of a value taken from a request an error or
// log line quotes: a sender controls headers of up to the server's header
// limit (1 MiB by default), and a refusal must not echo them back whole.
const maxQuoted = 64

// quote returns s quoted (as %q does) for an error, cut by clip.
func quote(s string) string {
	head, rest := clipped(s)
	return strconv.Quote(head) + rest
}

// clip returns s for a log attribute, cut by clip's rule (slog escapes it).
func clip(s string) string {
	head, rest := clipped(s)
	return head + rest
}

// clipped splits s into its first maxQuoted bytes (cut on a character
// boundary) and a note of the full length, empty when s is short enough.
func clipped(s string) (head, rest string) {
	if len(s) <= maxQuoted {
		return s, ""
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], fmt.Sprintf("... (%d bytes)", len(s))
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// parseTime reads ce-time: RFC 3339 as the service sends it, or an HTTP
// date. Anything else is the zero time.
func parseTime(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	if t, err := http.ParseTime(v); err == nil {
		return t
	}
	return time.Time{}
}
