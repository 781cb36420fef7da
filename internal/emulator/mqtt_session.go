package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// mqttSession is the MQTT state of a logical connection (conn.mq). The
// REST doc maps an MQTT session to a Web PubSub connection and the client
// ID to the connection ID, so the session is the conn itself: it keeps its
// groups (subscriptions) and the state below while no WebSocket carries it,
// for the session expiry. Every field is guarded by conn.mu.
type mqttSession struct {
	version     byte
	keepAlive   time.Duration // 0: no keep-alive timeout
	recvMax     int           // our in-flight limit towards the client
	maxPacket   int           // the client's Maximum Packet Size; 0: none
	expiry      time.Duration // how long the session outlives its connection
	will        *mqtt.Will    // nil once published or discarded
	willDelay   time.Duration
	normalEnd   bool // the client sent DISCONNECT without "with will"
	discCode    byte // reason of a server DISCONNECT about to be sent; 0: from the close code
	subs        map[string]mqttSub
	nextID      uint16
	inflight    []*mqttOut // sent QoS 1/2 publications not yet completed, in order
	pending     []*mqttOut // waiting for a connection or an in-flight slot, in order
	pendingLen  int        // mqttOut.size of pending
	inflightLen int        // mqttOut.size of inflight
	incoming2   map[uint16]struct{}
	expiryTime  *time.Timer
	willTimer   *time.Timer

	// Upstream events ("MQTT CloudEvents" page).
	sessionID   string
	physicalID  string                    // of the latest network connection
	connectInfo *MQTTConnect              // the connect event's mqtt object; nil after the event
	refusal     *mqttRefusal              // set when the connect handler refused with an MQTT code
	ackProps    []wire.CEMQTTUserProperty // the connect handler's user properties for CONNACK (5.0)
	lastDisc    *wire.CEMQTTDisconnectPacket
	byService   bool // the service ended the latest network connection
}

// mqttSub is one subscription's options.
type mqttSub struct {
	qos     byte
	subID   int // 5.0 subscription identifier; 0: none
	noLocal bool
}

// mqttOut is one publication to the client. id is set once it is sent at
// QoS 1 or 2; released once its PUBREC came (QoS 2) and PUBREL went out.
type mqttOut struct {
	pub      mqtt.Publish
	id       uint16
	released bool
	expires  time.Time
	size     int // what the session's byte bound counts for it (mqttSize)
}

// mqttOrigin is what a delivery keeps of the MQTT PUBLISH it came from.
type mqttOrigin struct {
	qos      byte
	props    mqtt.Properties // content type, payload format, response topic, correlation data, user properties
	fromConn string
	size     int // mqttSize of the publication, computed once for all receivers
}

// userPropertyOverhead is what one user property costs in memory beyond
// its text (two string headers), so that a packet of many empty ones is
// counted for what it holds, not for its few bytes on the wire.
const userPropertyOverhead = 32

// mqttSize is what a publication counts against a session's byte bound:
// payload, topic and every property that is forwarded, user properties
// with their overhead. Counting the payload alone let 1,000 waiting
// publications of 1 MiB of user properties each hold gigabytes.
func mqttSize(topic string, payload []byte, p *mqtt.Properties) int {
	n := len(topic) + len(payload) + len(p.ContentType) + len(p.ResponseTopic) + len(p.CorrelationData)
	for _, up := range p.UserProperties {
		n += len(up.Key) + len(up.Value) + userPropertyOverhead
	}
	return n
}

func newMQTTSession(cp *mqtt.Connect) *mqttSession {
	s := &mqttSession{subs: map[string]mqttSub{}, incoming2: map[uint16]struct{}{}, sessionID: randomID(12)}
	s.setConnect(cp)
	// The connect event's view of the CONNECT; serveMQTT drops it after
	// the event, so that a session does not keep the password (often the
	// token) or up to 1 MiB of user properties for its life.
	s.connectInfo = &MQTTConnect{ProtocolVersion: int(cp.Version), Password: cp.Password, PhysicalConnectionID: s.physicalID}
	if cp.HasUsername {
		s.connectInfo.Username = &cp.Username
	}
	if cp.HasPassword && cp.Password == nil {
		s.connectInfo.Password = []byte{}
	}
	for _, up := range cp.Props.UserProperties {
		s.connectInfo.UserProperties = append(s.connectInfo.UserProperties, wire.CEMQTTUserProperty{Name: up.Key, Value: up.Value})
	}
	return s
}

// eventInfoLocked adds the MQTT parts of a lifecycle event. c.mu is held.
func (s *mqttSession) eventInfoLocked(info *ConnectionInfo) {
	info.MQTT = &MQTTSession{PhysicalConnectionID: s.physicalID, SessionID: s.sessionID,
		Disconnect: &wire.CEMQTTDisconnectedProperties{InitiatedByClient: !s.byService, DisconnectPacket: s.lastDisc}}
}

// setConnect takes the connection-level settings of a (re)connect.
func (s *mqttSession) setConnect(cp *mqtt.Connect) {
	s.version = cp.Version
	s.keepAlive = time.Duration(cp.KeepAlive) * time.Second
	s.recvMax = mqttMaxInflight
	if rm := cp.Props.ReceiveMaximum; rm != nil && int(*rm) < s.recvMax {
		s.recvMax = int(*rm) // 5.0 flow control (support doc)
	}
	s.maxPacket = 0
	if mp := cp.Props.MaximumPacketSize; mp != nil {
		s.maxPacket = int(*mp)
	}
	// 3.1.1: a session that is not clean persists; 5.0: for its Session
	// Expiry Interval. Both at most 30 s (support doc).
	s.expiry = 0
	if cp.Version == mqtt.Version311 && !cp.CleanStart {
		s.expiry = mqttMaxSessionExpiry
	}
	if se := cp.Props.SessionExpiry; cp.Version == mqtt.Version5 && se != nil {
		s.expiry = min(time.Duration(*se)*time.Second, mqttMaxSessionExpiry)
	}
	s.will, s.willDelay, s.normalEnd = cp.Will, 0, false
	s.physicalID, s.lastDisc, s.byService = randomID(12), nil, false
	if cp.Will != nil && cp.Will.Props.WillDelay != nil {
		s.willDelay = time.Duration(*cp.Will.Props.WillDelay) * time.Second
	}
}

func (s *mqttSession) stopTimers() {
	if s.expiryTime != nil {
		s.expiryTime.Stop()
		s.expiryTime = nil
	}
	if s.willTimer != nil {
		s.willTimer.Stop()
		s.willTimer = nil
	}
}

// mqttAttach registers a new session, or finds the session of the same
// client ID to resume (MQTT: a new connection with the same client ID
// takes the session over). It returns the conn that serves the client and
// whether a session was present.
func (e *Emulator) mqttAttach(c *conn, cp *mqtt.Connect, groups []string) (*conn, bool, *mqttRefusal) {
	for range 3 {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, false, refuse(mqtt.ConnRefusedUnavailable, mqtt.CodeServerShuttingDown, "the emulator is shutting down")
		}
		h := e.hubLocked(c.hub)
		old := h.conns[c.id]
		if old == nil {
			e.registerLocked(c, groups)
			e.mu.Unlock()
			return c, false, nil
		}
		if old.mq == nil || old.userID != c.userID || old.hasUser != c.hasUser {
			// Another user's session (or a connection of another protocol)
			// is never taken over.
			e.mu.Unlock()
			return nil, false, refuse(mqtt.ConnRefusedIdentifier, mqtt.CodeClientIdentifierNotValid, "the client ID is in use by another user's connection")
		}
		if !cp.CleanStart {
			// The new token decides what the resumed session may do: its
			// grants replace the old ones (never accumulate, which grew
			// the wildcard patterns with every reconnect and kept roles a
			// newer token no longer has). The revision moves on so that a
			// check made against the old grants is made again.
			c.grants.revision = old.grants.revision + 1
			old.grants = c.grants
			for _, g := range groups {
				e.joinLocked(h, old, g)
			}
			e.mu.Unlock()
			old.mu.Lock()
			if old.closed {
				old.mu.Unlock()
				continue // it ended meanwhile: start a new session
			}
			old.mq.stopTimers()
			old.mq.setConnect(cp)
			old.mq.physicalID = c.mq.physicalID // the id the connect event announced
			old.mu.Unlock()
			return old, true, nil
		}
		e.mu.Unlock()
		old.mu.Lock()
		old.mq.discCode = mqtt.CodeSessionTakenOver
		old.closeLocked(websocket.StatusNormalClosure, "the session was taken over by a new connection with a clean start")
		old.mu.Unlock()
		e.detach(old)
	}
	return nil, false, refuse(mqtt.ConnRefusedUnavailable, mqtt.CodeServerBusy, "the client ID is being taken over concurrently: retry")
}

// mqttStart puts a WebSocket under the session, queues the CONNACK and the
// publications to resend, and serves the socket on goroutines of its own.
func (e *Emulator) mqttStart(c *conn, ws *websocket.Conn, cork *corkConn, in *wsStream, br *bufio.Reader, ack *mqtt.Connack, isNew bool) {
	p := e.newPhysical(ws)
	p.cork = cork
	c.mu.Lock()
	s := c.mq
	b, err := mqtt.Encode(ack, s.version)
	if c.closed || err != nil {
		c.mu.Unlock()
		_ = ws.Close(websocket.StatusNormalClosure, "the session ended")
		return
	}
	if old := c.phys; old != nil && !old.gone && old.closeReq == nil {
		s.queueDisconnectLocked(old, mqtt.CodeSessionTakenOver, "the session was taken over by a new connection")
		old.closeReq = &closeRequest{code: websocket.StatusNormalClosure}
		old.signal()
	}
	c.phys = p
	p.queue = append(p.queue, frame{binary: true, data: b})
	version := s.version
	s.resendLocked(c)
	c.mu.Unlock()
	e.opts.logger.Debug("MQTT client connected", "hub", c.hub, "connectionId", c.id, "sessionPresent", ack.SessionPresent)
	if isNew {
		e.notifyConnected(c)
	}
	if !e.track(2) {
		_ = ws.Close(wire.CloseGoingAway, "the service is shutting down")
		c.mqttPhysicalGone(p)
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	p.signal()
	l := &mqttLink{c: c, p: p, version: version, in: in, br: br}
	go func() { defer e.bg.Done(); c.writeLoop(ctx, p) }()
	go func() {
		defer e.bg.Done()
		defer cancel()
		l.readLoop(ctx)
		c.mqttPhysicalGone(p)
	}()
}

// mqttLink is one WebSocket of an MQTT session.
type mqttLink struct {
	c       *conn
	p       *physical
	version byte
	in      *wsStream
	br      *bufio.Reader
}

func (l *mqttLink) v5() bool { return l.version == mqtt.Version5 }

func (l *mqttLink) readLoop(ctx context.Context) {
	l.in.ctx = ctx
	l.c.mu.Lock()
	ka := l.c.mq.keepAlive
	l.c.mu.Unlock()
	var timer *time.Timer
	if ka > 0 {
		// MQTT: the server ends a connection that sent nothing for 1.5
		// times the keep-alive (the service's reason, azure-webpubsub#796).
		timer = time.AfterFunc(ka*3/2, func() {
			l.disconnect(mqtt.CodeKeepAliveTimeout, "no packet has been received for 1.5 times the keep-alive time")
		})
		defer timer.Stop()
	}
	for {
		pkt, err := mqtt.ReadPacket(l.br, l.version, mqttMaxPacketBytes)
		if err != nil {
			if me, ok := err.(*mqtt.Error); ok {
				l.disconnect(me.Code, me.Msg)
				l.drain()
			}
			return
		}
		if timer != nil {
			timer.Reset(ka * 3 / 2)
		}
		if !l.handle(pkt) {
			l.drain()
			return
		}
	}
}

// drain reads and discards until the socket ends, so that a DISCONNECT
// queued for the client is written before the session lets go of it.
func (l *mqttLink) drain() {
	buf := make([]byte, 4096)
	for {
		if _, err := l.in.Read(buf); err != nil {
			return
		}
	}
}

// send queues a packet on this link, if it still carries the session.
func (l *mqttLink) send(pkt mqtt.Packet) {
	b, err := mqtt.Encode(pkt, l.version)
	if err != nil {
		l.c.e.opts.logger.Error("encoding an MQTT packet", "type", pkt.Type().String(), "error", err.Error())
		return
	}
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phys != l.p || c.closed {
		return
	}
	if !c.enqueueLocked(frame{binary: true, data: b}) {
		c.mq.discCode = mqtt.CodeQuotaExceeded
		c.failLocked(wire.ClosePolicyViolation, "the client reads too slowly; its send queue is full")
	}
}

// disconnect ends this WebSocket (not the session): a 5.0 client gets a
// DISCONNECT with the reason first (support doc: server-sent disconnect).
func (l *mqttLink) disconnect(code byte, reason string) {
	c := l.c
	reason = redactJWTs(reason)
	c.e.opts.logger.Info("MQTT connection closed by the service", "hub", c.hub, "connectionId", c.id, "code", fmt.Sprintf("0x%02X", code), "reason", reason)
	c.mu.Lock()
	defer c.mu.Unlock()
	p := l.p
	if p.gone || p.closeReq != nil {
		return
	}
	if l.v5() {
		c.mq.queueDisconnectLocked(p, code, reason)
	}
	p.closeReq = &closeRequest{code: websocket.StatusNormalClosure}
	p.signal()
}

// queueDisconnectLocked queues a 5.0 DISCONNECT on p.
func (s *mqttSession) queueDisconnectLocked(p *physical, code byte, reason string) {
	if s.version != mqtt.Version5 {
		s.byService = true
		return
	}
	s.byService, s.lastDisc = true, &wire.CEMQTTDisconnectPacket{Code: int(code)}
	d := &mqtt.Disconnect{Code: code}
	d.Props.HasReasonString, d.Props.ReasonString = true, truncateReason(reason)
	if b, err := mqtt.Encode(d, s.version); err == nil {
		p.queue = append(p.queue, frame{binary: true, data: b})
		p.signal()
	}
}

// handle acts on one packet; false ends the link.
func (l *mqttLink) handle(pkt mqtt.Packet) bool {
	c := l.c
	switch pkt := pkt.(type) {
	case *mqtt.Publish:
		return l.publish(pkt)
	case *mqtt.Ack:
		switch pkt.Kind {
		case mqtt.TypePubrel:
			c.mu.Lock()
			_, ok := c.mq.incoming2[pkt.PacketID]
			delete(c.mq.incoming2, pkt.PacketID)
			c.mu.Unlock()
			ack := &mqtt.Ack{Kind: mqtt.TypePubcomp, PacketID: pkt.PacketID}
			if !ok {
				ack.Code = mqtt.CodePacketIdentifierNotFound
			}
			l.send(ack)
		default:
			l.ack(pkt)
		}
	case *mqtt.Subscribe:
		l.subscribe(pkt)
	case *mqtt.Unsubscribe:
		l.unsubscribe(pkt)
	case *mqtt.Pingreq:
		l.send(&mqtt.Pingresp{})
	case *mqtt.Disconnect:
		c.mu.Lock()
		s := c.mq
		if se := pkt.Props.SessionExpiry; se != nil {
			if s.expiry == 0 && *se != 0 {
				c.mu.Unlock()
				// MQTT 5.0 §3.14.2.2.2.
				l.disconnect(mqtt.CodeProtocolError, "a session expiry cannot be set at DISCONNECT when CONNECT set none")
				return false
			}
			s.expiry = min(time.Duration(*se)*time.Second, mqttMaxSessionExpiry)
		}
		s.lastDisc = &wire.CEMQTTDisconnectPacket{Code: int(pkt.Code)}
		for _, up := range pkt.Props.UserProperties {
			s.lastDisc.UserProperties = append(s.lastDisc.UserProperties, wire.CEMQTTUserProperty{Name: up.Key, Value: up.Value})
		}
		if pkt.Code != mqtt.CodeDisconnectWithWill {
			s.normalEnd, s.will = true, nil // MQTT: a normal DISCONNECT discards the will
		}
		if l.p.closeReq == nil && !l.p.gone {
			l.p.closeReq = &closeRequest{code: websocket.StatusNormalClosure}
			l.p.signal()
		}
		c.mu.Unlock()
		return false
	case *mqtt.Auth:
		l.disconnect(mqtt.CodeProtocolError, "enhanced authentication (AUTH) is not supported")
		return false
	default:
		l.disconnect(mqtt.CodeProtocolError, fmt.Sprintf("a client must not send %s", pkt.Type()))
		return false
	}
	return true
}

// topicError says why a PUBLISH topic cannot be a group name.
func topicError(topic string) string {
	if strings.HasPrefix(topic, "$") {
		// MQTT 5.0 §4.7.2 (3.1.1 §4.7.2 too): topics that begin with $
		// are the server's. A client that could publish to
		// $webpubsub/server/messages would reach every connection the
		// app added to a group of that name as if it were the server.
		return "topics that begin with $ are reserved for the service (such as " + wire.TopicServerMessages + "): publish to a group name"
	}
	if strings.ContainsAny(topic, "+#") {
		return "a PUBLISH topic must not contain the wildcards + or #"
	}
	if err := validateGroup(topic); err != nil {
		return "the topic is not a valid group name: " + err.Error()
	}
	return ""
}

func (l *mqttLink) publish(pub *mqtt.Publish) bool {
	c, e := l.c, l.c.e
	// Support doc: topic alias and retained messages are not supported.
	// Topic Alias Maximum is 0 and Retain Available 0 in our CONNACK, so
	// MQTT 5.0 §3.3.2.3.4 and §3.3.1.3 make these DISCONNECTs; 3.1.1 has no
	// code and the connection is closed.
	if pub.Props.TopicAlias != nil {
		l.disconnect(mqtt.CodeTopicAliasInvalid, "topic aliases are not supported")
		return false
	}
	if pub.Retain {
		l.disconnect(mqtt.CodeRetainNotSupported, "retained messages are not supported: publish with retain=false")
		return false
	}
	if msg := topicError(pub.Topic); msg != "" {
		l.disconnect(mqtt.CodeTopicNameInvalid, msg)
		return false
	}
	if pub.QoS == 2 {
		c.mu.Lock()
		_, dup := c.mq.incoming2[pub.PacketID]
		full := len(c.mq.incoming2) >= mqttReceiveMaximum
		c.mu.Unlock()
		if dup { // MQTT QoS 2: delivered once already; answer again
			l.send(&mqtt.Ack{Kind: mqtt.TypePubrec, PacketID: pub.PacketID})
			return true
		}
		if full {
			l.disconnect(mqtt.CodeReceiveMaximumExceeded, "more QoS 2 publications await PUBREL than the receive maximum of 100")
			return false
		}
	}
	allowed := e.permitted(c, wire.RoleSendToGroup, pub.Topic)
	if !allowed {
		// Connect doc: publishing needs webpubsub.sendToGroup[.<group>].
		msg := redactJWTs(fmt.Sprintf("no permission to publish to topic %q: the token needs role %s or %s.%s", pub.Topic, wire.RoleSendToGroup, wire.RoleSendToGroup, pub.Topic))
		if l.v5() && pub.QoS > 0 {
			kind := mqtt.TypePuback
			if pub.QoS == 2 {
				kind = mqtt.TypePubrec
			}
			ack := &mqtt.Ack{Kind: kind, PacketID: pub.PacketID, Code: mqtt.CodeNotAuthorized}
			ack.Props.HasReasonString, ack.Props.ReasonString = true, msg
			l.send(ack)
			return true
		}
		// 3.1.1 §3.3.5: a refused PUBLISH is acknowledged or the connection
		// closed; we close it so that the refusal is not silent.
		l.disconnect(mqtt.CodeNotAuthorized, msg)
		return false
	}
	d := mqttDelivery(c, pub.Topic, pub.QoS, pub.Payload, &pub.Props, l.v5())
	e.send(c.hub, scopeGroup, pub.Topic, target{}, d, "")
	switch pub.QoS {
	case 1:
		l.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: pub.PacketID})
	case 2:
		c.mu.Lock()
		c.mq.incoming2[pub.PacketID] = struct{}{}
		c.mu.Unlock()
		l.send(&mqtt.Ack{Kind: mqtt.TypePubrec, PacketID: pub.PacketID})
	}
	return true
}

// mqttDelivery makes the delivery of an MQTT publication (or will) to a
// group. Cross-protocol doc: the 5.0 content type gives the Web PubSub data
// type; absent or 3.1.1 is binary. Data that is not what its content type
// says (invalid JSON or UTF-8) goes as binary, so that it never breaks a
// json client's frame.
func mqttDelivery(c *conn, topic string, qos byte, payload []byte, props *mqtt.Properties, v5 bool) *delivery {
	dt := wire.DataTypeBinary
	if v5 {
		dt = wire.MQTTDataType(props.ContentType, props.HasContentType)
	}
	switch dt {
	case wire.DataTypeJSON:
		if !json.Valid(payload) || !utf8.Valid(payload) {
			dt = wire.DataTypeBinary
		}
	case wire.DataTypeText:
		if !utf8.Valid(payload) {
			dt = wire.DataTypeBinary
		}
	}
	o := &mqttOrigin{qos: qos, fromConn: c.id}
	if v5 {
		o.props = mqtt.Properties{
			PayloadFormat: props.PayloadFormat, HasContentType: props.HasContentType, ContentType: props.ContentType,
			HasResponseTopic: props.HasResponseTopic, ResponseTopic: props.ResponseTopic,
			CorrelationData: props.CorrelationData, UserProperties: props.UserProperties,
		}
	}
	o.size = mqttSize(topic, payload, &o.props)
	d := &delivery{from: wire.FromGroup, group: topic, fromUserID: c.userID, hasFrom: c.hasUser,
		payload: Payload{DataType: dt, Data: payload}, mqtt: o}
	if v5 && props.MessageExpiry != nil { // 5.0 message expiry (support doc)
		d.expires = time.Now().Add(time.Duration(*props.MessageExpiry) * time.Second)
	}
	return d
}

func (l *mqttLink) ack(a *mqtt.Ack) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.mq
	i := s.inflightIndex(a.PacketID)
	switch a.Kind {
	case mqtt.TypePuback:
		if i >= 0 && s.inflight[i].pub.QoS == 1 {
			s.complete(i)
		}
	case mqtt.TypePubrec:
		if i < 0 || s.inflight[i].pub.QoS != 2 {
			if c.phys == l.p {
				s.sendPubrelLocked(c, a.PacketID, mqtt.CodePacketIdentifierNotFound)
			}
			return
		}
		if a.Code >= 0x80 { // 5.0: the client refused the message; it is done
			s.complete(i)
			break
		}
		s.inflight[i].released = true
		s.sendPubrelLocked(c, a.PacketID, mqtt.CodeSuccess)
		return
	case mqtt.TypePubcomp:
		if i >= 0 && s.inflight[i].released {
			s.complete(i)
		}
	}
	s.pumpLocked(c)
}

func (s *mqttSession) inflightIndex(id uint16) int {
	for i, o := range s.inflight {
		if o.id == id {
			return i
		}
	}
	return -1
}

func (s *mqttSession) complete(i int) {
	s.inflightLen -= s.inflight[i].size
	s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
}

func (s *mqttSession) sendPubrelLocked(c *conn, id uint16, code byte) {
	b, err := mqtt.Encode(&mqtt.Ack{Kind: mqtt.TypePubrel, PacketID: id, Code: code}, s.version)
	if err == nil {
		s.enqueue(c, b)
	}
}

// enqueue queues packet bytes on the session's socket. c.mu is held.
func (s *mqttSession) enqueue(c *conn, b []byte) {
	if !c.enqueueLocked(frame{binary: true, data: b}) {
		s.discCode = mqtt.CodeQuotaExceeded
		c.failLocked(wire.ClosePolicyViolation, "the client reads too slowly; its send queue is full")
	}
}

func (l *mqttLink) subscribe(sub *mqtt.Subscribe) {
	c, e := l.c, l.c.e
	v5 := l.v5()
	fail := func(code5 byte) byte {
		if v5 {
			return code5
		}
		return mqtt.SubackFailure311
	}
	subID := 0
	if len(sub.Props.SubscriptionIDs) > 0 {
		subID = sub.Props.SubscriptionIDs[0] // 5.0 subscription identifiers (support doc)
	}
	codes := make([]byte, len(sub.Subscriptions))
	for i, s := range sub.Subscriptions {
		f := s.Filter
		opts := mqttSub{qos: s.QoS, subID: subID, noLocal: s.NoLocal}
		switch {
		case strings.HasPrefix(f, "$share/"): // support doc: no shared subscriptions
			codes[i] = fail(mqtt.CodeSharedSubNotSupported)
		case strings.ContainsAny(f, "+#"): // support doc: no wildcard subscriptions
			codes[i] = fail(mqtt.CodeWildcardSubNotSupported)
		case f == wire.TopicServerMessages:
			// REST doc: server messages come on this topic without a
			// subscription; subscribing only sets its QoS and options.
			c.mu.Lock()
			c.mq.subs[f] = opts
			c.mu.Unlock()
			codes[i] = s.QoS
		case validateGroup(f) != nil:
			codes[i] = fail(mqtt.CodeTopicFilterInvalid)
		default:
			codes[i] = l.join(f, opts)
		}
	}
	_ = e
	l.send(&mqtt.Suback{PacketID: sub.PacketID, Codes: codes})
}

// mqttSubRefused is the SUBACK code of a refused subscription.
func mqttSubRefused(v5 bool) byte {
	if v5 {
		return mqtt.CodeNotAuthorized
	}
	return mqtt.SubackFailure311
}

// join subscribes to a group: topic = group, and subscribing needs
// webpubsub.joinLeaveGroup[.<group>] (connect doc).
func (l *mqttLink) join(group string, opts mqttSub) byte {
	c, e := l.c, l.c.e
	if !e.lockIfPermitted(c, wire.RoleJoinLeaveGroup, group) {
		return mqttSubRefused(l.v5())
	}
	defer e.mu.Unlock()
	if c.ended {
		return mqttSubRefused(l.v5())
	}
	if _, in := c.groups[group]; !in && len(c.groups) >= maxClientGroups {
		// The same bound as a Web PubSub client's own joins.
		if l.v5() {
			return mqtt.CodeQuotaExceeded
		}
		return mqtt.SubackFailure311
	}
	e.joinLocked(e.hubLocked(c.hub), c, group)
	c.mu.Lock()
	c.mq.subs[group] = opts
	c.mu.Unlock()
	return opts.qos // the requested QoS is granted
}

// mqttLockBatch is how many topic filters of one packet are handled per
// hold of the engine's lock.
const mqttLockBatch = 256

// unsubscribe leaves groups. It needs no role: leaving only reduces what
// the client receives.
func (l *mqttLink) unsubscribe(u *mqtt.Unsubscribe) {
	c, e := l.c, l.c.e
	codes := make([]byte, len(u.Filters))
	// A filter that cannot be a group name cannot be subscribed to: it is
	// answered without looking at it under the engine's lock.
	valid := make([]bool, len(u.Filters))
	for i, f := range u.Filters {
		valid[i] = f == wire.TopicServerMessages || validateGroup(f) == nil
		codes[i] = mqtt.CodeNoSubscriptionExisted
	}
	// The engine's lock is taken per batch of filters, so that one
	// UNSUBSCRIBE of a megabyte of filters does not hold it throughout.
	for lo := 0; lo < len(u.Filters); lo += mqttLockBatch {
		batch := u.Filters[lo:min(lo+mqttLockBatch, len(u.Filters))]
		e.mu.Lock()
		h := e.hubLocked(c.hub)
		c.mu.Lock()
		for j, f := range batch {
			i := lo + j
			if !valid[i] {
				continue
			}
			if _, ok := c.groups[f]; ok {
				codes[i] = mqtt.CodeSuccess
			}
			if !c.ended {
				e.leaveLocked(h, c, f)
			}
			if _, ok := c.mq.subs[f]; ok {
				codes[i] = mqtt.CodeSuccess
				delete(c.mq.subs, f)
			}
		}
		c.mu.Unlock()
		e.mu.Unlock()
	}
	ack := &mqtt.Unsuback{PacketID: u.PacketID}
	if l.v5() {
		ack.Codes = codes
	}
	l.send(ack)
}

// deliverLocked turns a delivery into a publication for this client. The
// caller holds c.mu (and the engine's lock for reading).
func (s *mqttSession) deliverLocked(c *conn, d *delivery) {
	topic := wire.TopicServerMessages // REST doc: sends to all, user, connection
	if d.from == wire.FromGroup {
		topic = d.group
	}
	// REST doc: REST messages are published with QoS 1; messages from Web
	// PubSub clients are treated the same (cross-protocol doc: reliable
	// delivery maps to QoS 1). Subscriptions downgrade (MQTT).
	qos := byte(1)
	var props mqtt.Properties
	if o := d.mqtt; o != nil {
		if o.fromConn == c.id && s.subs[topic].noLocal {
			return
		}
		qos, props = o.qos, o.props
	} else {
		props.HasContentType, props.ContentType = true, wire.MQTTContentType(d.payload.DataType)
	}
	if sub, ok := s.subs[topic]; ok {
		qos = min(qos, sub.qos)
		if sub.subID > 0 {
			props.SubscriptionIDs = []int{sub.subID}
		}
	}
	o := &mqttOut{pub: mqtt.Publish{QoS: qos, Topic: topic, Payload: d.payload.Data, Props: props}, expires: d.expires, size: len(topic) + len(d.payload.Data)}
	if d.mqtt != nil {
		o.size = d.mqtt.size
	}
	direct := len(s.pending) == 0 && c.phys != nil && (qos == 0 || len(s.inflight) < s.recvMax)
	// What the session holds (waiting, and sent at QoS 1 or 2 but not
	// acknowledged) is bounded like a reliable client's unacknowledged
	// messages: by count and by payload bytes. Past either the session ends.
	held := s.pendingLen + s.inflightLen + o.size
	if (!direct || qos > 0) && (held > c.e.opts.bufferBytes || (!direct && len(s.pending) >= c.e.opts.bufferMessages)) {
		s.discCode = mqtt.CodeQuotaExceeded
		c.failLocked(wire.ClosePolicyViolation, fmt.Sprintf("more than %d messages or %d bytes wait for the MQTT client; the session ends", c.e.opts.bufferMessages, c.e.opts.bufferBytes))
		return
	}
	if direct {
		s.sendLocked(c, o, false)
		return
	}
	s.pending = append(s.pending, o)
	s.pendingLen += o.size
}

// sendLocked writes a publication; a QoS 1 or 2 one gets a packet
// identifier and stays in flight until acknowledged.
func (s *mqttSession) sendLocked(c *conn, o *mqttOut, dup bool) {
	pub := o.pub
	if !o.expires.IsZero() {
		left := time.Until(o.expires)
		if left <= 0 {
			return // 5.0 message expiry: not sent after it expired
		}
		secs := uint32((left + time.Second - 1) / time.Second)
		pub.Props.MessageExpiry = &secs
	}
	if pub.QoS > 0 && o.id == 0 {
		o.id = s.allocID()
		s.inflight = append(s.inflight, o)
		s.inflightLen += o.size
	}
	pub.PacketID, pub.Dup = o.id, dup
	b, err := mqtt.Encode(&pub, s.version)
	if err != nil || (s.maxPacket > 0 && len(b) > s.maxPacket) {
		// MQTT 5.0 §3.1.2.11.4: a packet over the client's maximum is
		// discarded as if it had been delivered.
		if i := s.inflightIndex(o.id); o.id != 0 && i >= 0 {
			s.complete(i)
		}
		c.e.opts.logger.Info("MQTT message not sent", "connectionId", c.id, "bytes", len(b), "clientMaximum", s.maxPacket)
		return
	}
	s.enqueue(c, b)
}

// allocID returns a packet identifier not in flight (there are at most
// mqttMaxInflight).
func (s *mqttSession) allocID() uint16 {
	for {
		s.nextID++
		if s.nextID != 0 && s.inflightIndex(s.nextID) < 0 {
			return s.nextID
		}
	}
}

// pumpLocked sends waiting publications while in-flight slots are free.
func (s *mqttSession) pumpLocked(c *conn) {
	for len(s.pending) > 0 && c.phys != nil && !c.closed {
		o := s.pending[0]
		if o.pub.QoS > 0 && len(s.inflight) >= s.recvMax {
			return
		}
		s.pending[0] = nil
		s.pending = s.pending[1:]
		s.pendingLen -= o.size
		s.sendLocked(c, o, false)
	}
}

// resendLocked runs when a connection resumes the session: MQTT resends
// unacknowledged PUBLISH packets with DUP and PUBREL packets, in order,
// then the waiting ones.
func (s *mqttSession) resendLocked(c *conn) {
	for _, o := range s.inflight {
		if o.released {
			s.sendPubrelLocked(c, o.id, mqtt.CodeSuccess)
		} else {
			s.sendLocked(c, o, true)
		}
	}
	s.pumpLocked(c)
}

// closingLocked runs when the session ends for good (conn.closeLocked): a
// 5.0 client gets a DISCONNECT with the reason, and a will that is still
// due is published.
func (s *mqttSession) closingLocked(c *conn, code websocket.StatusCode, reason string) {
	s.stopTimers()
	if p := c.phys; p != nil && !p.gone && p.closeReq == nil {
		dc := s.discCode
		if dc == 0 {
			dc = mqtt.CodeAdministrativeAction
			if code == wire.CloseGoingAway {
				dc = mqtt.CodeServerShuttingDown
			}
		}
		s.queueDisconnectLocked(p, dc, reason)
	}
	s.pending, s.inflight, s.pendingLen, s.inflightLen = nil, nil, 0, 0
	s.publishWillLocked(c)
}

// publishWillLocked publishes the will, once, unless the client ended
// normally (last will and testament, support doc).
func (s *mqttSession) publishWillLocked(c *conn) {
	w := s.will
	if w == nil || s.normalEnd {
		return
	}
	s.will = nil
	v5 := s.version == mqtt.Version5
	c.e.background(func() {
		e := c.e
		allowed := e.permitted(c, wire.RoleSendToGroup, w.Topic)
		if !allowed {
			e.opts.logger.Info("MQTT will not published: no permission to publish to its topic", "connectionId", c.id, "topic", redactJWTs(w.Topic))
			return
		}
		e.send(c.hub, scopeGroup, w.Topic, target{}, mqttDelivery(c, w.Topic, w.QoS, w.Payload, &w.Props, v5), "")
	})
}

// mqttPhysicalGone runs after a WebSocket of the session ends. The will is
// published now or after its delay; the session waits for a reconnect for
// its expiry, or ends.
func (c *conn) mqttPhysicalGone(p *physical) {
	if !c.dropPhysical(p) {
		return
	}
	s := c.mq
	if s.will != nil && !s.normalEnd {
		if delay := min(s.willDelay, s.expiry); delay > 0 {
			// A timer that fired while a resume stopped it finds itself
			// replaced (c.mu orders the two) and does nothing: the client
			// is back, even if its WebSocket is not attached yet.
			var wt *time.Timer
			wt = time.AfterFunc(delay, func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				if s.willTimer == wt && c.phys == nil && !c.closed {
					s.publishWillLocked(c)
				}
			})
			s.willTimer = wt
		} else {
			s.publishWillLocked(c)
		}
	}
	if s.expiry > 0 {
		var et *time.Timer
		et = time.AfterFunc(s.expiry, func() {
			c.mu.Lock()
			if s.expiryTime != et || c.phys != nil || c.closed {
				c.mu.Unlock()
				return
			}
			c.closeLocked(websocket.StatusNormalClosure, "the MQTT session expired")
			c.mu.Unlock()
			c.e.detach(c)
		})
		s.expiryTime = et
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.endReason == "" {
		c.endReason = "the client closed the connection"
		if !s.normalEnd {
			c.endReason = "the connection dropped"
		}
	}
	c.mu.Unlock()
	c.e.detach(c)
}
