package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
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
// once for the URL. The emulator has no upstream dispatcher of its own yet,
// and tells its hook only about user events, so connect, connected and
// disconnected are not sent.
type upstream struct {
	handlers map[string]string // hub → URL template
	keys     []string          // signing keys, primary first
	origin   string            // WebHook-Request-Origin: the service host
	client   *http.Client
	logger   *slog.Logger

	mu        sync.Mutex
	validated map[string]bool // validation URL → passed
}

var _ emulator.EventHandler = (*upstream)(nil)

// HandleEvent delivers one user event and returns the handler's reply.
func (u *upstream) HandleEvent(ctx context.Context, ev emulator.Event) (*emulator.Payload, error) {
	template, ok := u.handlers[ev.Hub]
	if !ok {
		return nil, nil // no handler for the hub: the event is dropped, as by the service
	}
	if err := u.validate(ctx, ev.Hub, template); err != nil {
		return nil, err
	}
	target := expandTemplate(template, ev.Hub, ev.Name)
	contentType, ok := wire.CEContentType(ev.Payload.DataType)
	if !ok {
		return nil, fmt.Errorf("data type %q cannot be sent to an event handler", ev.Payload.DataType)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(ev.Payload.Data))
	if err != nil {
		return nil, fmt.Errorf("event handler URL %s: %v", redactURL(target), err)
	}
	h := req.Header
	h.Set(wire.HeaderContentType, contentType)
	h.Set(wire.HeaderCESpecVersion, wire.CESpecVersion)
	h.Set(wire.HeaderCEAWPSVersion, wire.CEAWPSVersion)
	h.Set(wire.HeaderCEType, wire.CEUserType(ev.Name))
	h.Set(wire.HeaderCESource, wire.CESource(ev.Hub, ev.ConnectionID))
	h.Set(wire.HeaderCEID, newEventID())
	h.Set(wire.HeaderCETime, time.Now().UTC().Format(time.RFC3339Nano))
	h.Set(wire.HeaderCEHub, ev.Hub)
	h.Set(wire.HeaderCEConnectionID, ev.ConnectionID)
	h.Set(wire.HeaderCEEventName, ev.Name)
	if ev.UserID != "" {
		h.Set(wire.HeaderCEUserID, ev.UserID)
	}
	if ev.Subprotocol != "" {
		h.Set(wire.HeaderCESubprotocol, ev.Subprotocol)
	}
	h.Set(wire.HeaderCESignature, wire.CESignatureHeader(ev.ConnectionID, u.keys...))
	h.Set(wire.HeaderWebHookRequestOrigin, u.origin)

	start := time.Now()
	resp, err := u.client.Do(req)
	if err != nil {
		u.logger.Warn("event handler unreachable", "hub", ev.Hub, "event", ev.Name, "url", redactURL(target))
		return nil, fmt.Errorf("the event handler %s is unreachable", redactURL(target))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the event handler's reply: %v", err)
	}
	u.logger.Info("event delivered", "hub", ev.Hub, "event", ev.Name, "connectionId", ev.ConnectionID,
		"url", redactURL(target), "status", resp.StatusCode, "duration", time.Since(start))
	switch {
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent:
		return nil, fmt.Errorf("the event handler answered %d: %s", resp.StatusCode, excerpt(body))
	case len(body) > maxReplyBytes:
		return nil, fmt.Errorf("the event handler's reply is larger than 1 MiB")
	case resp.StatusCode == http.StatusNoContent || len(body) == 0:
		return nil, nil
	}
	dataType, ok := wire.CEDataType(resp.Header.Get(wire.HeaderContentType))
	if !ok {
		return nil, fmt.Errorf("the event handler replied with Content-Type %q: use text/plain, application/json or application/octet-stream", resp.Header.Get(wire.HeaderContentType))
	}
	return &emulator.Payload{DataType: dataType, Data: body}, nil
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
