package mqtt

import "fmt"

// Encode returns the bytes of p for a connection of the given protocol
// level (Version311 or Version5): 5.0-only fields (properties, reason
// codes) are left out for 3.1.1. It fails on values the format cannot
// carry: a string over 65,535 bytes, a packet over MaxRemainingLength, a
// QoS above 2, a missing packet identifier.
func Encode(p Packet, version byte) ([]byte, error) {
	if version != Version311 && version != Version5 {
		return nil, fmt.Errorf("mqtt: cannot encode for protocol level %d: use %d (3.1.1) or %d (5.0)", version, Version311, Version5)
	}
	v5 := version == Version5
	var e encoder
	var flags byte
	switch p := p.(type) {
	case *Connect:
		name := p.ProtocolName
		if name == "" {
			name = "MQTT"
		}
		e.str(name)
		e.b = append(e.b, p.Version)
		var f byte
		if p.CleanStart {
			f |= 0x02
		}
		if w := p.Will; w != nil {
			if w.QoS > 2 {
				return nil, fmt.Errorf("mqtt: will QoS %d is not 0, 1 or 2", w.QoS)
			}
			f |= 0x04 | w.QoS<<3
			if w.Retain {
				f |= 0x20
			}
		}
		if p.HasPassword {
			f |= 0x40
		}
		if p.HasUsername {
			f |= 0x80
		}
		e.b = append(e.b, f)
		e.u16(p.KeepAlive)
		if v5 {
			e.props(&p.Props)
		}
		e.str(p.ClientID)
		if w := p.Will; w != nil {
			if v5 {
				e.props(&w.Props)
			}
			e.str(w.Topic)
			e.bin(w.Payload)
		}
		if p.HasUsername {
			e.str(p.Username)
		}
		if p.HasPassword {
			e.bin(p.Password)
		}
	case *Connack:
		var f byte
		if p.SessionPresent {
			f = 1
		}
		e.b = append(e.b, f, p.Code)
		if v5 {
			e.props(&p.Props)
		}
	case *Publish:
		if p.QoS > 2 {
			return nil, fmt.Errorf("mqtt: PUBLISH QoS %d is not 0, 1 or 2", p.QoS)
		}
		flags = p.QoS << 1
		if p.Dup {
			flags |= 0x08
		}
		if p.Retain {
			flags |= 0x01
		}
		e.str(p.Topic)
		if p.QoS > 0 {
			if p.PacketID == 0 {
				return nil, fmt.Errorf("mqtt: a QoS %d PUBLISH needs a packet identifier", p.QoS)
			}
			e.u16(p.PacketID)
		}
		if v5 {
			e.props(&p.Props)
		}
		e.b = append(e.b, p.Payload...)
	case *Ack:
		switch p.Kind {
		case TypePuback, TypePubrec, TypePubcomp:
		case TypePubrel:
			flags = 0x02
		default:
			return nil, fmt.Errorf("mqtt: %s is not an acknowledgement of PUBLISH", p.Kind)
		}
		e.u16(p.PacketID)
		if v5 {
			// The reason code and properties may be left out when the code
			// is Success and there are no properties (MQTT 5.0 §3.4.2.1).
			var pe encoder
			pe.props(&p.Props)
			if p.Code != CodeSuccess || len(pe.b) > 1 {
				e.b = append(e.b, p.Code)
				e.b = append(e.b, pe.b...)
				e.tooLong = e.tooLong || pe.tooLong
			}
		}
	case *Subscribe:
		flags = 0x02
		e.u16(p.PacketID)
		if v5 {
			e.props(&p.Props)
		}
		for _, s := range p.Subscriptions {
			e.str(s.Filter)
			o := s.QoS
			if v5 {
				if s.NoLocal {
					o |= 0x04
				}
				if s.RetainAsPublished {
					o |= 0x08
				}
				o |= s.RetainHandling << 4
			}
			e.b = append(e.b, o)
		}
	case *Suback:
		e.u16(p.PacketID)
		if v5 {
			e.props(&p.Props)
		}
		e.b = append(e.b, p.Codes...)
	case *Unsubscribe:
		flags = 0x02
		e.u16(p.PacketID)
		if v5 {
			e.props(&p.Props)
		}
		for _, f := range p.Filters {
			e.str(f)
		}
	case *Unsuback:
		e.u16(p.PacketID)
		if v5 {
			e.props(&p.Props)
			e.b = append(e.b, p.Codes...)
		}
	case *Pingreq, *Pingresp:
	case *Disconnect:
		if v5 {
			var pe encoder
			pe.props(&p.Props)
			if p.Code != CodeSuccess || len(pe.b) > 1 {
				e.b = append(e.b, p.Code)
				e.b = append(e.b, pe.b...)
				e.tooLong = e.tooLong || pe.tooLong
			}
		}
	case *Auth:
		if !v5 {
			return nil, fmt.Errorf("mqtt: AUTH exists in MQTT 5.0 only")
		}
		e.b = append(e.b, p.Code)
		e.props(&p.Props)
	default:
		return nil, fmt.Errorf("mqtt: cannot encode %T", p)
	}
	if e.tooLong {
		return nil, fmt.Errorf("mqtt: a %s string or binary field is longer than 65,535 bytes", p.Type())
	}
	if len(e.b) > MaxRemainingLength {
		return nil, fmt.Errorf("mqtt: a %s of %d bytes is longer than MQTT allows", p.Type(), len(e.b))
	}
	out := make([]byte, 0, 5+len(e.b))
	out = append(out, byte(p.Type())<<4|flags)
	out = appendVarint(out, len(e.b))
	return append(out, e.b...), nil
}
