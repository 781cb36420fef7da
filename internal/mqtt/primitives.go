package mqtt

import (
	"encoding/binary"
	"unicode/utf8"
)

// decoder reads the primitive data types of MQTT (§1.5) from a packet's
// remaining bytes. Every read checks what is left first, so a length field
// can never claim more than the packet holds.
type decoder struct{ b []byte }

func (d *decoder) byte() (byte, error) {
	if len(d.b) < 1 {
		return 0, malformed("packet ends early")
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v, nil
}

func (d *decoder) u16() (uint16, error) {
	if len(d.b) < 2 {
		return 0, malformed("packet ends early")
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v, nil
}

func (d *decoder) u32() (uint32, error) {
	if len(d.b) < 4 {
		return 0, malformed("packet ends early")
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v, nil
}

func (d *decoder) bytePtr() (*byte, error) {
	v, err := d.byte()
	return &v, err
}

func (d *decoder) boolBytePtr() (*byte, error) {
	v, err := d.byte()
	if err == nil && v > 1 {
		return nil, protocolErr("a property that is 0 or 1 holds %d", v)
	}
	return &v, err
}

func (d *decoder) u16Ptr() (*uint16, error) {
	v, err := d.u16()
	return &v, err
}

func (d *decoder) u32Ptr() (*uint32, error) {
	v, err := d.u32()
	return &v, err
}

// varint reads a variable byte integer of at most four bytes.
func (d *decoder) varint() (int, error) {
	v, n, err := decodeVarint(d.b)
	if err != nil {
		return 0, err
	}
	d.b = d.b[n:]
	return v, nil
}

func decodeVarint(b []byte) (value, n int, err error) {
	mult := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, malformed("packet ends inside a variable byte integer")
		}
		value += int(b[i]&0x7F) * mult
		if b[i]&0x80 == 0 {
			return value, i + 1, nil
		}
		mult *= 128
	}
	return 0, 0, malformed("variable byte integer longer than four bytes")
}

// bin reads two-byte-length binary data. The result aliases the packet.
func (d *decoder) bin() ([]byte, error) {
	n, err := d.u16()
	if err != nil {
		return nil, err
	}
	if int(n) > len(d.b) {
		return nil, malformed("a length of %d is longer than the %d bytes left in the packet", n, len(d.b))
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v, nil
}

// str reads a UTF-8 encoded string: valid UTF-8 without U+0000 (§1.5.4).
func (d *decoder) str() (string, error) {
	b, err := d.bin()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", malformed("a string is not valid UTF-8")
	}
	for _, c := range b {
		if c == 0 {
			return "", malformed("a string contains U+0000")
		}
	}
	return string(b), nil
}

func (d *decoder) packetID(t PacketType) (uint16, error) {
	id, err := d.u16()
	if err == nil && id == 0 {
		return 0, protocolErr("%s has packet identifier 0", t)
	}
	return id, err
}

// encoder appends primitive data types. tooLong records a string or
// binary value longer than a two-byte length can state.
type encoder struct {
	b       []byte
	tooLong bool
}

func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }

func (e *encoder) bin(v []byte) {
	e.tooLong = e.tooLong || len(v) > 0xFFFF
	e.u16(uint16(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) str(v string) {
	e.tooLong = e.tooLong || len(v) > 0xFFFF
	e.u16(uint16(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) optByte(id byte, v *byte) {
	if v != nil {
		e.b = append(e.b, id, *v)
	}
}

func (e *encoder) optU16(id byte, v *uint16) {
	if v != nil {
		e.b = append(e.b, id)
		e.u16(*v)
	}
}

func (e *encoder) optU32(id byte, v *uint32) {
	if v != nil {
		e.b = append(e.b, id)
		e.b = binary.BigEndian.AppendUint32(e.b, *v)
	}
}

func (e *encoder) optStr(id byte, has bool, v string) {
	if has {
		e.b = append(e.b, id)
		e.str(v)
	}
}

func appendVarint(b []byte, v int) []byte {
	for {
		c := byte(v % 128)
		v /= 128
		if v > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}
