package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// maxReplyBytes bounds an event handler's reply, like the service's largest
// message.
const maxReplyBytes = 1 << 20

var hubPattern = regexp.MustCompile(wire.HubPattern)

// parseEventHandler parses "hub=URL-template".
func parseEventHandler(spec string) (hub, template string, err error) {
	hub, template, ok := strings.Cut(spec, "=")
	if !ok {
		return "", "", usagef("--event-handler %q: write HUB=URL, e.g. chat=http://localhost:3000/eventhandler/{event}", spec)
	}
	if err := checkEventHandler(hub, template); err != nil {
		return "", "", err
	}
	return hub, template, nil
}

func checkEventHandler(hub, template string) error {
	if !hubPattern.MatchString(hub) {
		return usagef("event handler for hub %q: not a hub name (a letter, then letters, digits or _ ` , . [ ])", hub)
	}
	u, err := url.Parse(expandTemplate(template, hub, wire.CEEventValidate))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("event handler for hub %q: %q is not an http or https URL", hub, redactURL(template))
	}
	return nil
}

// expandTemplate fills the {event} and {hub} placeholders of an event
// handler URL.
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

// upstream delivers client events to the hubs' event handlers as the
// service does: a CloudEvents POST in binary content mode, signed with the
// access keys, after the abuse-protection handshake (OPTIONS) has passed
// once for the URL. It implements the emulator's event hooks: user events
// (EventHandler), the blocking connect event (ConnectHandler), and the
// connected and disconnected notifications (LifecycleHandler).
type upstream struct {
	handlers map[string]string // hub → URL template
	system   map[string]bool   // the system events to send: connect, connected, disconnected
	keys     []string          // signing keys, primary first
	origin   string            // WebHook-Request-Origin: the service host
	client   *http.Client
	logger   *slog.Logger

	mu        sync.Mutex
	validated map[string]bool // validation URL → passed
}

var (
	_ emulator.EventHandler     = (*upstream)(nil)
	_ emulator.ConnectHandler   = (*upstream)(nil)
	_ emulator.LifecycleHandler = (*upstream)(nil)
)

// systemEventNames are the system events, in the order they happen.
var systemEventNames = []string{wire.CEEventConnect, wire.CEEventConnected, wire.CEEventDisconnected}

// parseSystemEvents parses a comma-separated list of system events.
func parseSystemEvents(list string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(systemEventNames, name) {
			return nil, usagef("system event %q: choose from connect, connected and disconnected", name)
		}
		out[name] = true
	}
	return out, nil
}

// ceEvent is one CloudEvent to deliver.
type ceEvent struct {
	hub, connectionID, userID, subprotocol string
	name, ceType                           string
	contentType                            string
	body                                   []byte
}

// ceReply is the app's answer.
type ceReply struct {
	status      int
	contentType string
	body        []byte
}

// deliver validates the hub's handler if needed and POSTs ev to it. ok is
// false when the hub has no handler.
func (u *upstream) deliver(ctx context.Context, ev ceEvent) (reply ceReply, ok bool, err error) {
	template, ok := u.handlers[ev.hub]
	if !ok {
		return reply, false, nil
	}
	if err := u.validate(ctx, ev.hub, template); err != nil {
		return reply, true, err
	}
	target := expandTemplate(template, ev.hub, ev.name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(ev.body))
	if err != nil {
		return reply, true, fmt.Errorf("event handler URL %s: %v", redactURL(target), err)
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
	h.Set(wire.HeaderCESignature, wire.CESignatureHeader(ev.connectionID, u.keys...))
	h.Set(wire.HeaderWebHookRequestOrigin, u.origin)

	start := time.Now()
	resp, err := u.client.Do(req)
	if err != nil {
		u.logger.Warn("event handler unreachable", "hub", ev.hub, "event", ev.name, "url", redactURL(target))
		return reply, true, fmt.Errorf("the event handler %s is unreachable", redactURL(target))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return reply, true, fmt.Errorf("read the event handler's reply: %v", err)
	}
	if len(body) > maxReplyBytes {
		return reply, true, fmt.Errorf("the event handler's reply is larger than 1 MiB")
	}
	u.logger.Info("event delivered", "hub", ev.hub, "event", ev.name, "connectionId", ev.connectionID,
		"url", redactURL(target), "status", resp.StatusCode, "duration", time.Since(start))
	return ceReply{status: resp.StatusCode, contentType: resp.Header.Get(wire.HeaderContentType), body: body}, true, nil
}

// HandleEvent delivers one user event and returns the handler's reply.
func (u *upstream) HandleEvent(ctx context.Context, ev emulator.Event) (*emulator.Payload, error) {
	contentType, ok := wire.CEContentType(ev.Payload.DataType)
	if !ok {
		return nil, fmt.Errorf("data type %q cannot be sent to an event handler", ev.Payload.DataType)
	}
	reply, ok, err := u.deliver(ctx, ceEvent{
		hub: ev.Hub, connectionID: ev.ConnectionID, userID: ev.UserID, subprotocol: ev.Subprotocol,
		name: ev.Name, ceType: wire.CEUserType(ev.Name), contentType: contentType, body: ev.Payload.Data,
	})
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, nil // no handler for the hub: the event is dropped, as by the service
	case reply.status != http.StatusOK && reply.status != http.StatusNoContent:
		return nil, fmt.Errorf("the event handler answered %d: %s", reply.status, excerpt(reply.body))
	case reply.status == http.StatusNoContent || len(reply.body) == 0:
		return nil, nil
	}
	dataType, ok := wire.CEDataType(reply.contentType)
	if !ok {
		return nil, fmt.Errorf("the event handler replied with Content-Type %q: use text/plain, application/json or application/octet-stream", reply.contentType)
	}
	return &emulator.Payload{DataType: dataType, Data: reply.body}, nil
}

// connectBody is the body of a connect event.
type connectBody struct {
	Claims             map[string][]string `json:"claims"`
	Query              map[string][]string `json:"query"`
	Headers            map[string][]string `json:"headers"`
	Subprotocols       []string            `json:"subprotocols"`
	ClientCertificates []struct{}          `json:"clientCertificates"`
}

// connectAnswer is a 200 answer to a connect event.
type connectAnswer struct {
	UserID      *string  `json:"userId"`
	Groups      []string `json:"groups"`
	Roles       []string `json:"roles"`
	Subprotocol string   `json:"subprotocol"`
}

// HandleConnect sends the blocking connect event: the app accepts the
// client (204, or 200 with a user id, groups, roles or a subprotocol) or
// rejects it with a 4xx the client sees.
func (u *upstream) HandleConnect(ctx context.Context, req emulator.ConnectRequest) (*emulator.ConnectResponse, error) {
	if !u.system[wire.CEEventConnect] {
		return nil, nil
	}
	body, err := json.Marshal(connectBody{Claims: req.Claims, Query: req.Query, Headers: req.Headers,
		Subprotocols: nonNil(req.Subprotocols), ClientCertificates: []struct{}{}})
	if err != nil {
		return nil, err
	}
	reply, ok, err := u.deliver(ctx, ceEvent{
		hub: req.Hub, connectionID: req.ConnectionID, userID: req.UserID,
		name: wire.CEEventConnect, ceType: wire.CETypeConnect, contentType: wire.ContentTypeJSON, body: body,
	})
	switch {
	case err != nil:
		return nil, &emulator.ConnectError{StatusCode: http.StatusInternalServerError, Message: err.Error()}
	case !ok, reply.status == http.StatusNoContent, reply.status == http.StatusOK && len(bytes.TrimSpace(reply.body)) == 0:
		return nil, nil
	case reply.status == http.StatusUnauthorized, reply.status == http.StatusForbidden, reply.status == http.StatusBadRequest:
		return nil, &emulator.ConnectError{StatusCode: reply.status, Message: excerpt(reply.body)}
	case reply.status >= 400 && reply.status < 500:
		return nil, &emulator.ConnectError{StatusCode: http.StatusBadRequest, Message: excerpt(reply.body)}
	case reply.status != http.StatusOK:
		return nil, &emulator.ConnectError{StatusCode: http.StatusInternalServerError, Message: fmt.Sprintf("the event handler answered %d: %s", reply.status, excerpt(reply.body))}
	}
	var a connectAnswer
	if err := json.Unmarshal(reply.body, &a); err != nil {
		return nil, &emulator.ConnectError{StatusCode: http.StatusInternalServerError, Message: "the event handler's connect answer is not JSON: " + err.Error()}
	}
	return &emulator.ConnectResponse{UserID: a.UserID, Groups: a.Groups, Roles: a.Roles, Subprotocol: a.Subprotocol}, nil
}

// HandleConnected sends the connected notification; failures are only
// logged, as by the service.
func (u *upstream) HandleConnected(ctx context.Context, info emulator.ConnectionInfo) {
	u.notify(ctx, info, wire.CEEventConnected, wire.CETypeConnected, []byte("{}"))
}

// HandleDisconnected sends the disconnected notification with the reason.
func (u *upstream) HandleDisconnected(ctx context.Context, info emulator.ConnectionInfo, reason string) {
	body, _ := json.Marshal(struct {
		Reason string `json:"reason,omitempty"`
	}{reason}) // a struct of one string always encodes
	u.notify(ctx, info, wire.CEEventDisconnected, wire.CETypeDisconnected, body)
}

func (u *upstream) notify(ctx context.Context, info emulator.ConnectionInfo, name, ceType string, body []byte) {
	if !u.system[name] {
		return
	}
	reply, ok, err := u.deliver(ctx, ceEvent{
		hub: info.Hub, connectionID: info.ConnectionID, userID: info.UserID, subprotocol: info.Subprotocol,
		name: name, ceType: ceType, contentType: wire.ContentTypeJSON, body: body,
	})
	switch {
	case err != nil:
		u.logger.Warn("event not delivered", "hub", info.Hub, "event", name, "error", err.Error())
	case ok && reply.status >= 300:
		u.logger.Warn("event handler refused a notification", "hub", info.Hub, "event", name, "status", reply.status)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// validate runs the abuse-protection handshake for the hub's handler once:
// OPTIONS with WebHook-Request-Origin, answered by WebHook-Allowed-Origin
// with the origin or "*". A failed handshake is tried again on the next
// event, so the app may start after the service.
func (u *upstream) validate(ctx context.Context, hub, template string) error {
	target := expandTemplate(template, hub, wire.CEEventValidate)
	u.mu.Lock()
	ok := u.validated[target]
	u.mu.Unlock()
	if ok {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, target, nil)
	if err != nil {
		return fmt.Errorf("event handler URL %s: %v", redactURL(target), err)
	}
	req.Header.Set(wire.HeaderWebHookRequestOrigin, u.origin)
	req.Header.Set(wire.HeaderCEAWPSVersion, wire.CEAWPSVersion)
	resp, err := u.client.Do(req)
	if err != nil {
		return fmt.Errorf("the event handler %s is unreachable", redactURL(target))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	allowed := resp.Header.Get(wire.HeaderWebHookAllowedOrigin)
	if resp.StatusCode != http.StatusOK || (allowed != wire.CEAllowAllOrigins && !strings.EqualFold(allowed, u.origin)) {
		u.logger.Warn("event handler failed the abuse-protection check", "hub", hub, "url", redactURL(target), "status", resp.StatusCode, "allowedOrigin", allowed)
		return fmt.Errorf("the event handler %s failed the abuse-protection check (OPTIONS answered %d with WebHook-Allowed-Origin %q, want %q or \"*\"): %s",
			redactURL(target), resp.StatusCode, allowed, u.origin, excerpt(body))
	}
	u.mu.Lock()
	u.validated[target] = true
	u.mu.Unlock()
	u.logger.Info("event handler validated", "hub", hub, "url", redactURL(target))
	return nil
}

// excerpt is the start of a response body on one line.
func excerpt(body []byte) string {
	s := oneLine(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(no body)"
	}
	return s
}

func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
