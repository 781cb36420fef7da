package emulator

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// MQTT over WebSocket at /clients/mqtt/hubs/{hub}. Where a behaviour comes
// from is noted at the code; "connect doc" is the service's "How to connect
// MQTT clients" page, "support doc" its "MQTT support status" page,
// "cross-protocol doc" its "Cross-protocol communication between MQTT
// clients and Web PubSub clients" page and "REST doc" its "REST API
// specification for MQTT" page.
const (
	// mqttMaxPacketBytes bounds one packet from a client, like
	// maxClientMessageBytes bounds one message of the other protocols; 5.0
	// clients are told in CONNACK (Maximum Packet Size).
	mqttMaxPacketBytes = maxClientMessageBytes
	// mqttReceiveMaximum is how many QoS 1 and 2 publications a client may
	// have unacknowledged towards us (5.0 Receive Maximum in CONNACK).
	mqttReceiveMaximum = 100
	// mqttMaxInflight bounds our unacknowledged QoS 1 and 2 publications to
	// one client (3.1.1 has no flow control; 5.0 takes the smaller of this
	// and the client's Receive Maximum). Further messages wait in order.
	mqttMaxInflight = 256
	// mqttMaxSessionExpiry: "MQTT sessions are preserved for up to 30
	// seconds when client connections are interrupted" (support doc).
	mqttMaxSessionExpiry = 30 * time.Second
	// mqttConnectTimeout bounds the wait for CONNECT after the handshake.
	mqttConnectTimeout = 10 * time.Second
	// Connect doc limits: client ID of 1 to 128 of 0-9, a-z, A-Z; 3.1.1
	// keep-alive of 1 to 180 s; will topic not empty, not only whitespace,
	// at most 1024 characters; will message at most 2,000 bytes.
	mqttMaxClientID       = 128
	mqttMaxKeepAlive311   = 180
	mqttMaxWillTopicChars = 1024
	mqttMaxWillBytes      = 2000
)

// mqttRefusal is why a CONNECT is refused: the 3.1.1 return code, the 5.0
// reason code and a reason string (sent to 5.0 clients and logged).
type mqttRefusal struct {
	code311, code5 byte
	reason         string
	props          []wire.CEMQTTUserProperty // 5.0 user properties (from a connect handler)
}

func refuse(code311, code5 byte, reason string) *mqttRefusal {
	return &mqttRefusal{code311: code311, code5: code5, reason: reason}
}

// code is the CONNACK code for a protocol level.
func (r *mqttRefusal) code(version byte) byte {
	if version == mqtt.Version5 {
		return r.code5
	}
	return r.code311
}

// serveMQTT handles /clients/mqtt/hubs/{hub}. HTTP-level problems (hub,
// subprotocol, shutdown) are answered with an HTTP error; everything else,
// a bad token included, is answered with a CONNACK code, which is what an
// MQTT library reports to its user.
func (e *Emulator) serveMQTT(w http.ResponseWriter, r *http.Request) {
	hub := r.PathValue("hub")
	if err := validateHub(hub); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidHub", err.Error())
		return
	}
	e.mu.RLock()
	closed := e.closed
	e.mu.RUnlock()
	if closed {
		writeError(w, http.StatusServiceUnavailable, "ServiceClosed", "the emulator is shutting down")
		return
	}
	// Connect doc: MQTT over WebSocket with the subprotocol "mqtt".
	if !slices.Contains(offeredSubprotocols(r), wire.SubprotocolMQTT) {
		writeError(w, http.StatusBadRequest, "UnsupportedSubprotocol", "MQTT clients must offer the WebSocket subprotocol \"mqtt\"")
		return
	}
	// Connect doc: the token is in access_token or "Authorization: Bearer";
	// it is verified like any client token (roles, groups, user, expiry).
	claims, authErr := e.authenticateClient(r, hub)
	ws, cork, err := e.accept(w, r, wire.SubprotocolMQTT)
	if err != nil {
		return
	}
	// The stream outlives this handler (its reader goroutine takes it over),
	// so it reads with the emulator's context; a timer bounds the wait for
	// CONNECT instead of a deadline on the context.
	ctx := e.ctx
	timer := time.AfterFunc(mqttConnectTimeout, func() { _ = ws.CloseNow() })
	defer timer.Stop()
	in := &wsStream{ws: ws, ctx: ctx}
	br := bufio.NewReaderSize(in, 4096)
	pkt, err := mqtt.ReadPacket(br, 0, mqttMaxPacketBytes)
	if err != nil {
		var me *mqtt.Error
		if errors.As(err, &me) && me.Code == mqtt.CodeUnsupportedProtocolVersion {
			// MQTT 3.1.1 §3.1.2.2: answer an unsupported level with 0x01.
			e.mqttRefuse(ctx, ws, mqtt.Version311, &mqttRefusal{code311: mqtt.ConnRefusedVersion, reason: me.Msg})
			return
		}
		e.opts.logger.Info("MQTT client sent no valid CONNECT", "hub", hub, "error", redactJWTs(err.Error()))
		_ = ws.Close(websocket.StatusProtocolError, "the first MQTT packet must be a valid CONNECT")
		return
	}
	cp := pkt.(*mqtt.Connect)
	if authErr != nil {
		// Missing, malformed, badly signed or expired token: Not authorized.
		e.mqttRefuse(ctx, ws, cp.Version, &mqttRefusal{code311: mqtt.ConnRefusedNotAuthorized, code5: mqtt.CodeNotAuthorized, reason: authErr.Error()})
		return
	}
	if ref := checkMQTTConnect(cp); ref != nil {
		e.mqttRefuse(ctx, ws, cp.Version, ref)
		return
	}
	assigned := false
	if cp.ClientID == "" { // 5.0 only; checkMQTTConnect refused it for 3.1.1
		cp.ClientID, assigned = mqttAssignedID(), true
	}
	c := &conn{
		e: e, hub: hub, id: cp.ClientID, userID: claims.userID, hasUser: claims.hasUser,
		kind: protocolMQTT, subprotocol: wire.SubprotocolMQTT, roles: claims.roles,
		groups: map[string]struct{}{},
	}
	c.mq = newMQTTSession(cp)
	groups, status, msg := e.runConnect(r, c, claims, []string{wire.SubprotocolMQTT})
	c.mq.connectInfo = nil // only the connect event needs it
	if status != 0 {
		ref := c.mq.refusal // the handler's own MQTT code ("MQTT CloudEvents" page)
		if ref == nil {
			ref = mqttRefusalForStatus(status, msg)
		}
		e.mqttRefuse(ctx, ws, cp.Version, ref)
		return
	}
	c.kind, c.subprotocol = protocolMQTT, wire.SubprotocolMQTT // a connect handler cannot change the protocol
	if c.grants, err = newGrants(c.roles); err != nil {
		e.mqttRefuse(ctx, ws, cp.Version, refuse(mqtt.ConnRefusedNotAuthorized, mqtt.CodeNotAuthorized, err.Error()))
		return
	}
	sc, present, ref := e.mqttAttach(c, cp, groups)
	if ref != nil {
		e.mqttRefuse(ctx, ws, cp.Version, ref)
		return
	}
	ack := &mqtt.Connack{SessionPresent: present}
	if cp.Version == mqtt.Version5 {
		ack.Props = mqttConnackProps(cp, assigned)
		ack.Props.UserProperties = userProperties(c.mq.ackProps)
	}
	if !timer.Stop() { // the handshake took too long: the socket is closed
		e.endConn(sc, websocket.StatusNormalClosure, "the MQTT handshake timed out")
		return
	}
	e.mqttStart(sc, ws, cork, in, br, ack, !present)
}

// checkMQTTConnect applies the connect doc's rules and the features the
// support doc lists as unsupported to a CONNECT.
func checkMQTTConnect(cp *mqtt.Connect) *mqttRefusal {
	v5 := cp.Version == mqtt.Version5
	switch {
	case cp.ClientID == "" && !v5:
		return &mqttRefusal{code311: mqtt.ConnRefusedIdentifier, reason: "the client ID is empty: use 1 to 128 characters 0-9, a-z, A-Z"}
	case utf8.RuneCountInString(cp.ClientID) > mqttMaxClientID:
		return refuse(mqtt.ConnRefusedIdentifier, mqtt.CodeClientIdentifierNotValid, "the client ID is longer than 128 characters")
	case strings.IndexFunc(cp.ClientID, func(r rune) bool { return !isAlnumASCII(r) }) >= 0:
		return refuse(mqtt.ConnRefusedIdentifier, mqtt.CodeClientIdentifierNotValid, "the client ID may hold only the characters 0-9, a-z and A-Z")
	case !v5 && (cp.KeepAlive < 1 || cp.KeepAlive > mqttMaxKeepAlive311):
		// The connect doc gives the range but no return code; 3.1.1 has no
		// code for it, so the service's refusal is "unavailable" to it.
		return &mqttRefusal{code311: mqtt.ConnRefusedUnavailable, reason: fmt.Sprintf("keep-alive %d s is outside 1 to 180 s", cp.KeepAlive)}
	case v5 && cp.Props.HasAuthMethod:
		return &mqttRefusal{code5: mqtt.CodeBadAuthenticationMethod, reason: "enhanced authentication is not supported: pass the token in the URL or an Authorization header"}
	}
	if w := cp.Will; w != nil {
		n := utf8.RuneCountInString(w.Topic)
		switch {
		case strings.TrimFunc(w.Topic, unicode.IsSpace) == "" || n > mqttMaxWillTopicChars:
			return refuse(mqtt.ConnRefusedUnavailable, mqtt.CodeTopicNameInvalid, "the will topic must hold a non-whitespace character and at most 1024 characters")
		case strings.ContainsAny(w.Topic, "+#"):
			return refuse(mqtt.ConnRefusedUnavailable, mqtt.CodeTopicNameInvalid, "the will topic must not contain the wildcards + or #")
		case len(w.Payload) > mqttMaxWillBytes:
			return refuse(mqtt.ConnRefusedUnavailable, mqtt.CodePacketTooLarge, fmt.Sprintf("the will message has %d bytes: at most 2,000 are allowed", len(w.Payload)))
		case w.Retain:
			// Support doc: retained messages are not supported; MQTT 5.0
			// §3.2.2.2 says to refuse a will retain with 0x9A.
			return refuse(mqtt.ConnRefusedUnavailable, mqtt.CodeRetainNotSupported, "retained messages are not supported: clear the will retain flag")
		}
	}
	return nil
}

// userProperties converts event-handler user properties to MQTT ones.
func userProperties(in []wire.CEMQTTUserProperty) []mqtt.UserProperty {
	var out []mqtt.UserProperty
	for _, p := range in {
		out = append(out, mqtt.UserProperty{Key: p.Name, Value: p.Value})
	}
	return out
}

func isAlnumASCII(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// mqttRefusalForStatus maps a connect handler's HTTP rejection without an
// MQTT code to CONNACK codes, as the official handlers map them.
func mqttRefusalForStatus(status int, msg string) *mqttRefusal {
	return &mqttRefusal{
		code311: byte(wire.MQTTConnectCodeForStatus(status, wire.MQTTProtocolVersion311)),
		code5:   byte(wire.MQTTConnectCodeForStatus(status, wire.MQTTProtocolVersion5)),
		reason:  msg,
	}
}

// mqttAssignedID makes a client ID for a 5.0 client that sent none (support
// doc: "Assigned client ID"), from the allowed characters.
func mqttAssignedID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func mqttConnackProps(cp *mqtt.Connect, assigned bool) mqtt.Properties {
	zero, one := byte(0), byte(1)
	recv := uint16(mqttReceiveMaximum)
	maxPacket := uint32(mqttMaxPacketBytes)
	p := mqtt.Properties{
		ReceiveMaximum:       &recv,
		MaximumPacketSize:    &maxPacket,
		RetainAvailable:      &zero, // support doc: no retained messages
		WildcardSubAvailable: &zero, // no wildcard subscriptions
		SharedSubAvailable:   &zero, // no shared subscriptions
		SubIDAvailable:       &one,
	}
	if assigned {
		p.HasAssignedClientID, p.AssignedClientID = true, cp.ClientID
	}
	if cp.Props.SessionExpiry != nil && time.Duration(*cp.Props.SessionExpiry)*time.Second > mqttMaxSessionExpiry {
		max := uint32(mqttMaxSessionExpiry / time.Second)
		p.SessionExpiry = &max // tell the client the expiry we keep
	}
	return p
}

// jwtShape matches compact JWS strings and anything that starts like one.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}`)

// redactJWTs removes token-shaped text from a reason that may quote what a
// client sent (a topic, a group): a client that puts its token there must
// not find it in the logs (linear: Go's regexp never backtracks).
func redactJWTs(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	return jwtShape.ReplaceAllString(s, "[REDACTED]")
}

// mqttRefuse answers a CONNECT with a refusing CONNACK and closes.
func (e *Emulator) mqttRefuse(ctx context.Context, ws *websocket.Conn, version byte, ref *mqttRefusal) {
	reason := redactJWTs(ref.reason)
	e.opts.logger.Info("MQTT client refused", "code", fmt.Sprintf("0x%02X", ref.code(version)), "reason", reason)
	ack := &mqtt.Connack{Code: ref.code(version)}
	if version == mqtt.Version5 {
		ack.Props.HasReasonString, ack.Props.ReasonString = true, reason
		ack.Props.UserProperties = userProperties(ref.props)
	} else {
		version = mqtt.Version311
	}
	if b, err := mqtt.Encode(ack, version); err == nil {
		_ = ws.Write(ctx, websocket.MessageBinary, b)
	}
	_ = ws.Close(websocket.StatusNormalClosure, "")
}

// wsStream reads the binary messages of a WebSocket as one byte stream:
// MQTT packets may span messages and a message may hold several packets.
type wsStream struct {
	ws  *websocket.Conn
	ctx context.Context
	cur io.Reader
}

func (s *wsStream) Read(p []byte) (int, error) {
	for {
		if s.cur == nil {
			typ, r, err := s.ws.Reader(s.ctx)
			if err != nil {
				return 0, err
			}
			if typ != websocket.MessageBinary {
				return 0, errors.New("MQTT over WebSocket uses binary messages only")
			}
			s.cur = r
		}
		n, err := s.cur.Read(p)
		if errors.Is(err, io.EOF) {
			s.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}
