package mqtt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ReadPacket reads one packet from r. version is the connection's protocol
// level, or 0 before CONNECT (then only a CONNECT is accepted). A packet
// whose fixed header and remaining length add up to more than maxSize
// bytes is refused with CodePacketTooLarge before its body is read or
// allocated. It returns io.EOF when r ends before a packet starts.
func ReadPacket(r *bufio.Reader, version byte, maxSize int) (Packet, error) {
	h, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	n, hdr := 0, 1
	for mult := 1; ; mult *= 128 {
		c, err := r.ReadByte()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		hdr++
		n += int(c&0x7F) * mult
		if c&0x80 == 0 {
			break
		}
		if hdr == 5 {
			return nil, malformed("remaining length longer than four bytes")
		}
	}
	if hdr+n > maxSize {
		return nil, &Error{Code: CodePacketTooLarge, Msg: fmt.Sprintf("a %s of %d bytes is larger than the maximum packet size of %d bytes", PacketType(h>>4), hdr+n, maxSize)}
	}
	body, err := readBody(r, n)
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	return Decode(h, body, version)
}

// firstBodyChunk is how much of a body is allocated before any of it has
// arrived.
const firstBodyChunk = 4 << 10

// readBody reads n bytes, growing the buffer (by doubling, capped at n) as
// they arrive: a peer that claims a large packet and sends a few bytes
// makes us hold what it sent, not what it claimed (before CONNECT, when it
// has not yet been authenticated, too). The copies add at most n bytes.
func readBody(r io.Reader, n int) ([]byte, error) {
	body := make([]byte, 0, min(n, firstBodyChunk))
	for len(body) < n {
		if len(body) == cap(body) {
			body = slices.Grow(body, min(cap(body), n-len(body)))
		}
		m, err := r.Read(body[len(body):min(cap(body), n)])
		body = body[:len(body)+m]
		if err != nil && len(body) < n {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return body, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fixedFlags are the required low nibbles of the fixed header (MQTT 3.1.1
// §2.2.2, 5.0 §2.1.3); PUBLISH is checked on its own.
var fixedFlags = [16]byte{TypePubrel: 0x02, TypeSubscribe: 0x02, TypeUnsubscribe: 0x02}

// Decode decodes a packet from its first header byte and its remaining
// bytes (body). Byte slices in the result alias body. version is as for
// ReadPacket.
func Decode(header byte, body []byte, version byte) (Packet, error) {
	t := PacketType(header >> 4)
	flags := header & 0x0F
	if version != 0 && version != Version311 && version != Version5 {
		return nil, &Error{Code: CodeUnsupportedProtocolVersion, Msg: fmt.Sprintf("protocol level %d is not 3.1.1 (4) or 5.0 (5)", version)}
	}
	if version == 0 && t != TypeConnect {
		return nil, protocolErr("the first packet is %s, not CONNECT", t)
	}
	if version != 0 && t == TypeConnect {
		return nil, protocolErr("a second CONNECT on the same connection")
	}
	if t == 0 || (t == TypeAuth && version != Version5) {
		return nil, malformed("reserved packet type %d", byte(t))
	}
	if t != TypePublish && flags != fixedFlags[t] {
		return nil, malformed("%s has fixed header flags 0x%X, want 0x%X", t, flags, fixedFlags[t])
	}
	v5 := version == Version5
	d := &decoder{b: body}
	var p Packet
	var err error
	switch t {
	case TypeConnect:
		p, err = d.connect()
	case TypeConnack:
		p, err = d.connack(v5)
	case TypePublish:
		p, err = d.publish(flags, v5)
	case TypePuback, TypePubrec, TypePubrel, TypePubcomp:
		p, err = d.ack(t, v5)
	case TypeSubscribe:
		p, err = d.subscribe(v5)
	case TypeSuback:
		p, err = d.suback(v5)
	case TypeUnsubscribe:
		p, err = d.unsubscribe(v5)
	case TypeUnsuback:
		p, err = d.unsuback(v5)
	case TypePingreq:
		p = &Pingreq{}
	case TypePingresp:
		p = &Pingresp{}
	case TypeDisconnect:
		p, err = d.disconnect(v5)
	case TypeAuth:
		a := &Auth{}
		if len(d.b) > 0 {
			a.Code, _ = d.byte()
			if len(d.b) > 0 {
				a.Props, err = d.properties(TypeAuth)
			}
		}
		p = a
	}
	if err != nil {
		return nil, err
	}
	if len(d.b) != 0 {
		return nil, malformed("%s has %d bytes after its end", t, len(d.b))
	}
	return p, nil
}

func (d *decoder) connect() (*Connect, error) {
	c := &Connect{}
	var err error
	if c.ProtocolName, err = d.str(); err != nil {
		return nil, err
	}
	if c.Version, err = d.byte(); err != nil {
		return nil, err
	}
	if c.ProtocolName != "MQTT" || (c.Version != Version311 && c.Version != Version5) {
		return nil, &Error{Code: CodeUnsupportedProtocolVersion, Msg: fmt.Sprintf("protocol %q level %d is not MQTT 3.1.1 (level 4) or 5.0 (level 5)", c.ProtocolName, c.Version)}
	}
	f, err := d.byte()
	if err != nil {
		return nil, err
	}
	if f&0x01 != 0 {
		return nil, malformed("CONNECT reserved flag is set")
	}
	c.CleanStart = f&0x02 != 0
	willQoS := f >> 3 & 0x03
	willRetain := f&0x20 != 0
	c.HasPassword = f&0x40 != 0
	c.HasUsername = f&0x80 != 0
	if f&0x04 == 0 && (willQoS != 0 || willRetain) {
		return nil, malformed("CONNECT has will QoS or will retain without a will")
	}
	if willQoS > 2 {
		return nil, malformed("CONNECT will QoS 3")
	}
	if c.Version == Version311 && c.HasPassword && !c.HasUsername {
		return nil, malformed("CONNECT has a password without a user name")
	}
	if c.KeepAlive, err = d.u16(); err != nil {
		return nil, err
	}
	v5 := c.Version == Version5
	if v5 {
		if c.Props, err = d.properties(TypeConnect); err != nil {
			return nil, err
		}
	}
	if c.ClientID, err = d.str(); err != nil {
		return nil, err
	}
	if f&0x04 != 0 {
		w := &Will{QoS: willQoS, Retain: willRetain}
		if v5 {
			if w.Props, err = d.properties(propWill); err != nil {
				return nil, err
			}
		}
		if w.Topic, err = d.str(); err != nil {
			return nil, err
		}
		if w.Payload, err = d.bin(); err != nil {
			return nil, err
		}
		c.Will = w
	}
	if c.HasUsername {
		if c.Username, err = d.str(); err != nil {
			return nil, err
		}
	}
	if c.HasPassword {
		if c.Password, err = d.bin(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (d *decoder) connack(v5 bool) (*Connack, error) {
	f, err := d.byte()
	if err != nil {
		return nil, err
	}
	if f&^1 != 0 {
		return nil, malformed("CONNACK reserved flags are set")
	}
	c := &Connack{SessionPresent: f == 1}
	if c.Code, err = d.byte(); err != nil {
		return nil, err
	}
	if v5 {
		c.Props, err = d.properties(TypeConnack)
	}
	return c, err
}

func (d *decoder) publish(flags byte, v5 bool) (*Publish, error) {
	p := &Publish{Dup: flags&0x08 != 0, QoS: flags >> 1 & 0x03, Retain: flags&0x01 != 0}
	if p.QoS == 3 {
		return nil, malformed("PUBLISH QoS 3")
	}
	if p.QoS == 0 && p.Dup {
		return nil, protocolErr("QoS 0 PUBLISH with the DUP flag")
	}
	var err error
	if p.Topic, err = d.str(); err != nil {
		return nil, err
	}
	if p.QoS > 0 {
		if p.PacketID, err = d.packetID(TypePublish); err != nil {
			return nil, err
		}
	}
	if v5 {
		if p.Props, err = d.properties(TypePublish); err != nil {
			return nil, err
		}
	}
	p.Payload = d.b[:len(d.b):len(d.b)]
	d.b = nil
	return p, nil
}

func (d *decoder) ack(t PacketType, v5 bool) (*Ack, error) {
	a := &Ack{Kind: t}
	var err error
	if a.PacketID, err = d.packetID(t); err != nil {
		return nil, err
	}
	if v5 && len(d.b) > 0 {
		a.Code, _ = d.byte()
		if len(d.b) > 0 {
			a.Props, err = d.properties(t)
		}
	}
	return a, err
}

func (d *decoder) subscribe(v5 bool) (*Subscribe, error) {
	s := &Subscribe{}
	var err error
	if s.PacketID, err = d.packetID(TypeSubscribe); err != nil {
		return nil, err
	}
	if v5 {
		if s.Props, err = d.properties(TypeSubscribe); err != nil {
			return nil, err
		}
		if len(s.Props.SubscriptionIDs) > 1 {
			return nil, protocolErr("SUBSCRIBE has more than one subscription identifier")
		}
	}
	for len(d.b) > 0 {
		var sub Subscription
		if sub.Filter, err = d.str(); err != nil {
			return nil, err
		}
		o, err := d.byte()
		if err != nil {
			return nil, err
		}
		sub.QoS = o & 0x03
		if sub.QoS == 3 {
			return nil, malformed("SUBSCRIBE requests QoS 3")
		}
		if v5 {
			sub.NoLocal = o&0x04 != 0
			sub.RetainAsPublished = o&0x08 != 0
			sub.RetainHandling = o >> 4 & 0x03
			if sub.RetainHandling == 3 || o&0xC0 != 0 {
				return nil, malformed("SUBSCRIBE options 0x%02X use reserved bits", o)
			}
		} else if o&0xFC != 0 {
			return nil, malformed("SUBSCRIBE requested QoS byte 0x%02X uses reserved bits", o)
		}
		s.Subscriptions = append(s.Subscriptions, sub)
	}
	if len(s.Subscriptions) == 0 {
		return nil, protocolErr("SUBSCRIBE without a topic filter")
	}
	return s, nil
}

func (d *decoder) suback(v5 bool) (*Suback, error) {
	s := &Suback{}
	var err error
	if s.PacketID, err = d.packetID(TypeSuback); err != nil {
		return nil, err
	}
	if v5 {
		if s.Props, err = d.properties(TypeSuback); err != nil {
			return nil, err
		}
	}
	s.Codes = d.b[:len(d.b):len(d.b)]
	d.b = nil
	return s, nil
}

func (d *decoder) unsubscribe(v5 bool) (*Unsubscribe, error) {
	u := &Unsubscribe{}
	var err error
	if u.PacketID, err = d.packetID(TypeUnsubscribe); err != nil {
		return nil, err
	}
	if v5 {
		if u.Props, err = d.properties(TypeUnsubscribe); err != nil {
			return nil, err
		}
	}
	for len(d.b) > 0 {
		f, err := d.str()
		if err != nil {
			return nil, err
		}
		u.Filters = append(u.Filters, f)
	}
	if len(u.Filters) == 0 {
		return nil, protocolErr("UNSUBSCRIBE without a topic filter")
	}
	return u, nil
}

func (d *decoder) unsuback(v5 bool) (*Unsuback, error) {
	u := &Unsuback{}
	var err error
	if u.PacketID, err = d.packetID(TypeUnsuback); err != nil {
		return nil, err
	}
	if v5 {
		if u.Props, err = d.properties(TypeUnsuback); err != nil {
			return nil, err
		}
		u.Codes = d.b[:len(d.b):len(d.b)]
		d.b = nil
	}
	return u, nil
}

func (d *decoder) disconnect(v5 bool) (*Disconnect, error) {
	x := &Disconnect{}
	var err error
	if v5 && len(d.b) > 0 {
		x.Code, _ = d.byte()
		if len(d.b) > 0 {
			x.Props, err = d.properties(TypeDisconnect)
		}
	}
	return x, err
}
