package mqtt

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/leakcheck"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }

func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }

// Byte-exact packets of both versions, written out by hand from the
// specifications' figures: each decodes to the value and encodes back to
// the same bytes.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		version byte
		wire    []byte
		packet  Packet
	}{
		{"connect 3.1.1 minimal", Version311, []byte{
			0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'c', '1'},
			&Connect{ProtocolName: "MQTT", Version: 4, CleanStart: true, KeepAlive: 60, ClientID: "c1"}},
		{"connect 3.1.1 will user password", Version311, []byte{
			0x10, 28, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xEC, 0, 10, 0, 1, 'c',
			0, 1, 'w', 0, 2, 'b', 'y', 0, 1, 'u', 0, 3, 'p', 'w', 'd'},
			&Connect{ProtocolName: "MQTT", Version: 4, CleanStart: false, KeepAlive: 10, ClientID: "c",
				Will:        &Will{Topic: "w", Payload: []byte("by"), QoS: 1, Retain: true},
				HasUsername: true, Username: "u", HasPassword: true, Password: []byte("pwd")}},
		{"connect 5.0 properties and will properties", Version5, []byte{
			0x10, 33, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 30,
			8, 0x11, 0, 0, 0, 30, 0x21, 0, 10, // session expiry 30, receive maximum 10
			0, 0, // empty client id
			5, 0x18, 0, 0, 0, 5, // will delay 5
			0, 1, 't', 0, 1, 'x'},
			&Connect{ProtocolName: "MQTT", Version: 5, CleanStart: true, KeepAlive: 30,
				Props: Properties{SessionExpiry: u32(30), ReceiveMaximum: u16(10)},
				Will:  &Will{Topic: "t", Payload: []byte("x"), Props: Properties{WillDelay: u32(5)}}}},
		{"connack 3.1.1 refused", Version311, []byte{0x20, 2, 0, 0x05}, &Connack{Code: ConnRefusedNotAuthorized}},
		{"connack 5.0 assigned id", Version5, []byte{0x20, 9, 1, 0, 6, 0x12, 0, 3, 'a', 'b', 'c'},
			&Connack{SessionPresent: true, Props: Properties{HasAssignedClientID: true, AssignedClientID: "abc"}}},
		{"publish qos0 3.1.1", Version311, []byte{0x30, 5, 0, 1, 'a', 'h', 'i'},
			&Publish{Topic: "a", Payload: []byte("hi")}},
		{"publish qos2 dup retain 3.1.1", Version311, []byte{0x3D, 6, 0, 1, 'a', 0x12, 0x34, 'x'},
			&Publish{Dup: true, QoS: 2, Retain: true, Topic: "a", PacketID: 0x1234, Payload: []byte("x")}},
		{"publish qos1 5.0 content type expiry subscription ids", Version5, []byte{0x32, 31,
			0, 1, 'g', 0, 7,
			23, 0x02, 0, 0, 0, 9, 0x03, 0, 10, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', 0x0B, 3, 0x0B, 0x80, 0x01,
			'o', 'k'},
			&Publish{QoS: 1, Topic: "g", PacketID: 7, Payload: []byte("ok"),
				Props: Properties{MessageExpiry: u32(9), HasContentType: true, ContentType: "text/plain", SubscriptionIDs: []int{3, 128}}}},
		{"puback 3.1.1", Version311, []byte{0x40, 2, 0, 9}, &Ack{Kind: TypePuback, PacketID: 9}},
		{"puback 5.0 success short form", Version5, []byte{0x40, 2, 0, 9}, &Ack{Kind: TypePuback, PacketID: 9}},
		{"puback 5.0 not authorized", Version5, []byte{0x40, 4, 0, 9, 0x87, 0}, &Ack{Kind: TypePuback, PacketID: 9, Code: CodeNotAuthorized}},
		{"pubrec 5.0", Version5, []byte{0x50, 2, 0, 1}, &Ack{Kind: TypePubrec, PacketID: 1}},
		{"pubrel", Version311, []byte{0x62, 2, 0, 1}, &Ack{Kind: TypePubrel, PacketID: 1}},
		{"pubcomp 5.0 reason string", Version5, []byte{0x70, 8, 0, 1, 0x92, 4, 0x1F, 0, 1, 'x'},
			&Ack{Kind: TypePubcomp, PacketID: 1, Code: CodePacketIdentifierNotFound, Props: Properties{HasReasonString: true, ReasonString: "x"}}},
		{"subscribe 3.1.1 two filters", Version311, []byte{0x82, 10, 0, 1, 0, 1, 'a', 1, 0, 1, 'b', 2},
			&Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "a", QoS: 1}, {Filter: "b", QoS: 2}}}},
		{"subscribe 5.0 options and id", Version5, []byte{0x82, 9, 0, 2, 2, 0x0B, 5, 0, 1, 'a', 0x2E},
			&Subscribe{PacketID: 2, Props: Properties{SubscriptionIDs: []int{5}},
				Subscriptions: []Subscription{{Filter: "a", QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2}}}},
		{"suback 3.1.1", Version311, []byte{0x90, 4, 0, 1, 1, 0x80}, &Suback{PacketID: 1, Codes: []byte{1, 0x80}}},
		{"suback 5.0", Version5, []byte{0x90, 5, 0, 1, 0, 0xA2, 0x87}, &Suback{PacketID: 1, Codes: []byte{0xA2, 0x87}}},
		{"unsubscribe 3.1.1", Version311, []byte{0xA2, 5, 0, 3, 0, 1, 'a'}, &Unsubscribe{PacketID: 3, Filters: []string{"a"}}},
		{"unsubscribe 5.0 user property", Version5, []byte{0xA2, 13, 0, 3, 7, 0x26, 0, 1, 'k', 0, 1, 'v', 0, 1, 'a'},
			&Unsubscribe{PacketID: 3, Props: Properties{UserProperties: []UserProperty{{"k", "v"}}}, Filters: []string{"a"}}},
		{"unsuback 3.1.1", Version311, []byte{0xB0, 2, 0, 3}, &Unsuback{PacketID: 3}},
		{"unsuback 5.0", Version5, []byte{0xB0, 4, 0, 3, 0, 0x11}, &Unsuback{PacketID: 3, Codes: []byte{0x11}}},
		{"pingreq", Version311, []byte{0xC0, 0}, &Pingreq{}},
		{"pingresp", Version5, []byte{0xD0, 0}, &Pingresp{}},
		{"disconnect 3.1.1", Version311, []byte{0xE0, 0}, &Disconnect{}},
		{"disconnect 5.0 normal", Version5, []byte{0xE0, 0}, &Disconnect{}},
		{"disconnect 5.0 with will and expiry", Version5, []byte{0xE0, 7, 0x04, 5, 0x11, 0, 0, 0, 0},
			&Disconnect{Code: CodeDisconnectWithWill, Props: Properties{SessionExpiry: u32(0)}}},
		{"auth 5.0", Version5, []byte{0xF0, 2, 0x18, 0}, &Auth{Code: 0x18}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadPacket(bufio.NewReader(bytes.NewReader(tt.wire)), versionFor(tt.packet, tt.version), 1<<20)
			if err != nil {
				t.Fatalf("ReadPacket: %v", err)
			}
			if diff := cmp.Diff(tt.packet, got, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			enc, err := Encode(tt.packet, tt.version)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !bytes.Equal(enc, tt.wire) {
				t.Errorf("Encode = % X\nwant     % X", enc, tt.wire)
			}
		})
	}
}

// versionFor is the version ReadPacket is called with: 0 for CONNECT.
func versionFor(p Packet, v byte) byte {
	if p.Type() == TypeConnect {
		return 0
	}
	return v
}

// Every malformed or forbidden input fails with the reason code a 5.0
// broker answers it with.
func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		version byte
		wire    []byte
		code    byte
	}{
		{"first packet not connect", 0, []byte{0xC0, 0}, CodeProtocolError},
		{"second connect", Version311, []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'c', '1'}, CodeProtocolError},
		{"mqtt 3.1", 0, []byte{0x10, 16, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0x02, 0, 60, 0, 2, 'c', '1'}, CodeUnsupportedProtocolVersion},
		{"connect reserved flag", 0, []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x03, 0, 60, 0, 2, 'c', '1'}, CodeMalformedPacket},
		{"will qos without will", 0, []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x0A, 0, 60, 0, 2, 'c', '1'}, CodeMalformedPacket},
		{"password without user 3.1.1", 0, []byte{0x10, 17, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x42, 0, 60, 0, 2, 'c', '1', 0, 1, 'p'}, CodeMalformedPacket},
		{"client id runs past end", 0, []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 9, 'c', '1'}, CodeMalformedPacket},
		{"publish qos3", Version311, []byte{0x36, 5, 0, 1, 'a', 0, 1}, CodeMalformedPacket},
		{"publish qos0 dup", Version311, []byte{0x38, 3, 0, 1, 'a'}, CodeProtocolError},
		{"publish packet id 0", Version311, []byte{0x32, 5, 0, 1, 'a', 0, 0}, CodeProtocolError},
		{"topic with NUL", Version311, []byte{0x30, 3, 0, 1, 0}, CodeMalformedPacket},
		{"topic not utf-8", Version311, []byte{0x30, 3, 0, 1, 0xFF}, CodeMalformedPacket},
		{"pubrel bad flags", Version311, []byte{0x60, 2, 0, 1}, CodeMalformedPacket},
		{"subscribe bad flags", Version311, []byte{0x80, 6, 0, 1, 0, 1, 'a', 1}, CodeMalformedPacket},
		{"subscribe no filters", Version311, []byte{0x82, 2, 0, 1}, CodeProtocolError},
		{"subscribe qos3", Version311, []byte{0x82, 6, 0, 1, 0, 1, 'a', 3}, CodeMalformedPacket},
		{"subscribe reserved option bits 3.1.1", Version311, []byte{0x82, 6, 0, 1, 0, 1, 'a', 0x04}, CodeMalformedPacket},
		{"subscribe retain handling 3", Version5, []byte{0x82, 7, 0, 1, 0, 0, 1, 'a', 0x30}, CodeMalformedPacket},
		{"property length past end", Version5, []byte{0x30, 4, 0, 1, 'a', 9}, CodeMalformedPacket},
		{"unknown property", Version5, []byte{0x30, 6, 0, 1, 'a', 2, 0x7F, 0}, CodeMalformedPacket},
		{"property not allowed in packet", Version5, []byte{0x30, 9, 0, 1, 'a', 5, 0x11, 0, 0, 0, 1}, CodeProtocolError},
		{"property twice", Version5, []byte{0x30, 9, 0, 1, 'a', 5, 0x01, 0, 0x01, 1, 0}[:11], CodeProtocolError},
		{"payload format 2", Version5, []byte{0x30, 6, 0, 1, 'a', 2, 0x01, 2}, CodeProtocolError},
		{"receive maximum 0", 0, []byte{0x10, 16, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 3, 0x21, 0, 0, 0, 0}, CodeProtocolError},
		{"varint five bytes", Version5, []byte{0x30, 9, 0, 1, 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0}, CodeMalformedPacket},
		{"trailing bytes", Version311, []byte{0xC0, 1, 0}, CodeMalformedPacket},
		{"auth in 3.1.1", Version311, []byte{0xF0, 0}, CodeMalformedPacket},
		{"reserved type 0", Version311, []byte{0x00, 0}, CodeMalformedPacket},
		{"remaining length five bytes", Version311, []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, CodeMalformedPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadPacket(bufio.NewReader(bytes.NewReader(tt.wire)), tt.version, 1<<20)
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("ReadPacket error = %v, want an *Error", err)
			}
			if me.Code != tt.code {
				t.Errorf("code = 0x%02X (%v), want 0x%02X", me.Code, err, tt.code)
			}
		})
	}
}

// A remaining length over the maximum packet size is refused before the
// body is read: the reader is never asked for more than the header.
func TestPacketTooLarge(t *testing.T) {
	hdr := appendVarint([]byte{0x30}, MaxRemainingLength)
	r := &countingReader{r: io.MultiReader(bytes.NewReader(hdr), neverEnding{})}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		r.n = 0
		r.r = io.MultiReader(bytes.NewReader(hdr), neverEnding{})
		_, err := ReadPacket(bufio.NewReaderSize(r, 16), Version5, 1024)
		var me *Error
		if !errors.As(err, &me) || me.Code != CodePacketTooLarge {
			t.Fatalf("ReadPacket error = %v, want CodePacketTooLarge", err)
		}
	}
	runtime.ReadMemStats(&after)
	if r.n > 16 {
		t.Errorf("read %d bytes of a packet that is too large, want at most the 16-byte buffer", r.n)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing ten 256 MiB packets allocated %d bytes; the body must not be allocated", got)
	}
	// Exactly at the limit is fine.
	ok := append(appendVarint([]byte{0x30}, 1021), append([]byte{0, 1, 'a'}, make([]byte, 1018)...)...)
	if len(ok) != 1024 {
		t.Fatalf("test packet is %d bytes", len(ok))
	}
	if _, err := ReadPacket(bufio.NewReader(bytes.NewReader(ok)), Version311, 1024); err != nil {
		t.Errorf("a packet of exactly the maximum size: %v", err)
	}
}

// A packet that claims the maximum size but stops after a few bytes costs
// what arrived, not what it claimed (the body grows as bytes come).
func TestClaimedSizeIsNotAllocatedUpFront(t *testing.T) {
	const claimed = 1 << 20
	for _, sent := range []int{0, 10, 5000, claimed - 1} {
		hdr := appendVarint([]byte{0x10}, claimed)
		in := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(make([]byte, sent))), 16)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadPacket(in, 0, claimed+8)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("sent %d: error %v, want io.ErrUnexpectedEOF", sent, err)
		}
		// Race mode and the reader add a little; the body is at most
		// twice what arrived, or the first 4 KiB chunk.
		if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(4*max(sent, firstBodyChunk)+64<<10); got > bound {
			t.Errorf("a %d-byte packet stopped after %d bytes allocated %d bytes, want at most %d", claimed, sent, got, bound)
		}
	}
	// A body that arrives in small pieces is read whole.
	want := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 'c'}
	pkt := append(appendVarint([]byte{0x10}, len(want)), want...)
	got, err := ReadPacket(bufio.NewReaderSize(&oneByteReader{b: pkt}, 16), 0, 1024)
	if err != nil || got.(*Connect).ClientID != "c" {
		t.Errorf("CONNECT in 1-byte pieces: %+v, %v", got, err)
	}
}

type oneByteReader struct{ b []byte }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		return 0, io.EOF
	}
	p[0], o.b = o.b[0], o.b[1:]
	return 1, nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type neverEnding struct{}

func (neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestReadPacketEOF(t *testing.T) {
	if _, err := ReadPacket(bufio.NewReader(bytes.NewReader(nil)), Version311, 100); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	if _, err := ReadPacket(bufio.NewReader(bytes.NewReader([]byte{0x30, 5, 0})), Version311, 100); err != io.ErrUnexpectedEOF {
		t.Errorf("cut packet: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		p       Packet
		version byte
		want    string
	}{
		{"bad version", &Pingreq{}, 3, "protocol level 3"},
		{"qos 3", &Publish{QoS: 3, Topic: "a"}, Version311, "QoS 3"},
		{"no packet id", &Publish{QoS: 1, Topic: "a"}, Version311, "packet identifier"},
		{"long topic", &Publish{Topic: strings.Repeat("a", 70000)}, Version311, "65,535"},
		{"long property", &Publish{Topic: "a", Props: Properties{HasContentType: true, ContentType: strings.Repeat("a", 70000)}}, Version5, "65,535"},
		{"auth 3.1.1", &Auth{}, Version311, "5.0 only"},
		{"ack kind", &Ack{Kind: TypeConnack, PacketID: 1}, Version311, "not an acknowledgement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.p, tt.version)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Encode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzDecode: no input panics or makes ReadPacket allocate a body larger
// than the maximum packet size, and whatever decodes encodes to bytes that
// decode to the same packet.
func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{
		{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'c', '1'},
		{0x32, 31, 0, 1, 'g', 0, 7, 23, 0x02, 0, 0, 0, 9, 0x03, 0, 10, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', 0x0B, 3, 0x0B, 0x80, 0x01, 'o', 'k'},
		{0x82, 9, 0, 2, 2, 0x0B, 5, 0, 1, 'a', 0x2E},
		{0xE0, 7, 0x04, 5, 0x11, 0, 0, 0, 0},
		{0x30, 0xFF, 0xFF, 0xFF, 0x7F},
	} {
		f.Add(byte(5), s)
		f.Add(byte(4), s)
	}
	const maxSize = 4096
	f.Fuzz(func(t *testing.T, version byte, in []byte) {
		version %= 6 // 0 (before CONNECT), 4, 5, and invalid levels
		r := &countingReader{r: bytes.NewReader(in)}
		p, err := ReadPacket(bufio.NewReaderSize(r, 16), version, maxSize)
		if r.n > maxSize+16 {
			t.Fatalf("read %d bytes for one packet of at most %d (plus the 16-byte buffer)", r.n, maxSize)
		}
		if err != nil {
			return
		}
		v := version
		if c, ok := p.(*Connect); ok {
			v = c.Version
		}
		if v != Version311 && v != Version5 {
			t.Fatalf("decoded %s for protocol level %d", p.Type(), v)
		}
		enc, err := Encode(p, v)
		if err != nil {
			t.Fatalf("Encode of a decoded %s: %v", p.Type(), err)
		}
		if len(enc) > maxSize {
			t.Fatalf("a decoded packet re-encodes to %d bytes, over the %d-byte maximum", len(enc), maxSize)
		}
		p2, err := ReadPacket(bufio.NewReader(bytes.NewReader(enc)), version, maxSize)
		if err != nil {
			t.Fatalf("re-decoding % X: %v", enc, err)
		}
		if diff := cmp.Diff(p, p2, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
