package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// Payload is a message body with its data type (wire.DataTypeJSON,
// wire.DataTypeText or wire.DataTypeBinary). Data holds the raw bytes: the
// JSON text, the UTF-8 text or the binary content (never base64).
type Payload struct {
	DataType string
	Data     []byte
}

// payloadFromContentType maps a REST Content-Type to a payload.
func payloadFromContentType(contentType string, body []byte) (Payload, error) {
	mt := contentType
	if i := bytes.IndexByte([]byte(mt), ';'); i >= 0 {
		mt = mt[:i]
	}
	switch trimSpace(mt) {
	case wire.ContentTypeJSON:
		if !json.Valid(body) {
			return Payload{}, fmt.Errorf("the body is not valid JSON although Content-Type is %s", wire.ContentTypeJSON)
		}
		if !utf8.Valid(body) { // json.Valid lets invalid UTF-8 through; clients' text frames must be UTF-8
			return Payload{}, fmt.Errorf("the body is not valid UTF-8, which JSON requires")
		}
		return Payload{DataType: wire.DataTypeJSON, Data: body}, nil
	case wire.ContentTypeText:
		if !utf8.Valid(body) {
			return Payload{}, fmt.Errorf("the body is not valid UTF-8 although Content-Type is %s", wire.ContentTypeText)
		}
		return Payload{DataType: wire.DataTypeText, Data: body}, nil
	case wire.ContentTypeBinary:
		return Payload{DataType: wire.DataTypeBinary, Data: body}, nil
	}
	return Payload{}, fmt.Errorf("unsupported Content-Type %q: use %s, %s or %s",
		contentType, wire.ContentTypeJSON, wire.ContentTypeText, wire.ContentTypeBinary)
}

func trimSpace(s string) string { return string(bytes.TrimSpace([]byte(s))) }

// delivery is one message fanned out to many connections. The JSON form
// (without sequenceId) is encoded once and shared.
type delivery struct {
	from       string // wire.FromGroup or wire.FromServer
	group      string
	fromUserID string
	hasFrom    bool
	payload    Payload
	expires    time.Time   // zero: never
	mqtt       *mqttOrigin // set when an MQTT client published the message

	once   sync.Once
	prefix []byte // JSON object without its closing brace

	checkOnce sync.Once
	textOK    bool   // the payload may go into text frames: binary, or valid UTF-8
	plain     []byte // the whole JSON object: the frame of every non-reliable json connection
}

func (d *delivery) jsonPrefix() []byte {
	d.once.Do(func() {
		var b bytes.Buffer
		b.WriteString(`{"type":"message","from":`)
		writeJSONString(&b, d.from)
		if d.from == wire.FromGroup {
			b.WriteString(`,"group":`)
			writeJSONString(&b, d.group)
		}
		if d.hasFrom {
			b.WriteString(`,"fromUserId":`)
			writeJSONString(&b, d.fromUserID)
		}
		b.WriteString(`,"dataType":`)
		writeJSONString(&b, d.payload.DataType)
		b.WriteString(`,"data":`)
		writePayloadData(&b, d.payload)
		b.WriteByte('}')
		d.plain = b.Bytes()
		d.prefix = d.plain[:len(d.plain)-1]
	})
	return d.prefix
}

// validText reports whether the payload can go into text frames. Every
// source checks its input (REST bodies, client messages, event handler
// replies); this is the last guard, run once per delivery.
func (d *delivery) validText() bool {
	d.checkOnce.Do(func() {
		d.textOK = d.payload.DataType == wire.DataTypeBinary || utf8.Valid(d.payload.Data)
	})
	return d.textOK
}

// frameFor encodes the delivery for one connection's protocol.
func (d *delivery) frameFor(kind protocolKind, seq uint64) frame {
	if kind == protocolSimple {
		return frame{binary: d.payload.DataType == wire.DataTypeBinary, data: d.payload.Data, expires: d.expires, checked: d.validText()}
	}
	p := d.jsonPrefix()
	if seq == 0 { // the same bytes for every connection: share them (frames are never modified)
		return frame{data: d.plain, expires: d.expires, checked: d.validText()}
	}
	b := make([]byte, 0, len(p)+32)
	b = append(b, p...)
	if seq != 0 {
		b = append(b, `,"sequenceId":`...)
		b = strconv.AppendUint(b, seq, 10)
	}
	b = append(b, '}')
	return frame{data: b, seq: seq, expires: d.expires, checked: d.validText()}
}

func writePayloadData(b *bytes.Buffer, p Payload) {
	switch p.DataType {
	case wire.DataTypeJSON:
		if len(bytes.TrimSpace(p.Data)) == 0 {
			b.WriteString("null")
			return
		}
		b.Write(p.Data)
	case wire.DataTypeText:
		writeJSONString(b, string(p.Data))
	default:
		b.WriteByte('"')
		b.WriteString(base64.StdEncoding.EncodeToString(p.Data))
		b.WriteByte('"')
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

// frame is one WebSocket message queued for a connection.
type frame struct {
	binary  bool
	data    []byte
	seq     uint64    // non-zero for reliable data messages
	checked bool      // a text frame known to be valid UTF-8; the writer checks the others
	expires time.Time // zero: never
}

// Service → client control messages.

type connectedMessage struct {
	Type              string  `json:"type"`
	Event             string  `json:"event"`
	UserID            *string `json:"userId"`
	ConnectionID      string  `json:"connectionId"`
	ReconnectionToken string  `json:"reconnectionToken,omitempty"`
}

type disconnectedMessage struct {
	Type    string `json:"type"`
	Event   string `json:"event"`
	Message string `json:"message"`
}

type ackError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

type ackMessage struct {
	Type    string    `json:"type"`
	AckID   uint64    `json:"ackId"`
	Success bool      `json:"success"`
	Error   *ackError `json:"error,omitempty"`
}

func controlFrame(v any) frame {
	b, err := json.Marshal(v)
	if err != nil { // the control types above always marshal
		panic(fmt.Sprintf("emulator: encoding control message: %v", err))
	}
	return frame{data: b, checked: true} // json.Marshal writes valid UTF-8
}

// Client → service message (json subprotocols). Fields are a union over all
// message types.
type clientMessage struct {
	Type       string          `json:"type"`
	Group      *string         `json:"group"`
	AckID      *uint64         `json:"ackId"`
	NoEcho     bool            `json:"noEcho"`
	DataType   string          `json:"dataType"`
	Data       json.RawMessage `json:"data"`
	Event      *string         `json:"event"`
	SequenceID *uint64         `json:"sequenceId"`
}

// decodeClientData turns the data field of a client message into a payload.
func decodeClientData(dataType string, data json.RawMessage) (Payload, error) {
	if dataType == "" {
		dataType = wire.DataTypeJSON
	}
	switch dataType {
	case wire.DataTypeJSON:
		if len(data) == 0 {
			return Payload{}, fmt.Errorf("data is missing")
		}
		return Payload{DataType: dataType, Data: append([]byte(nil), data...)}, nil
	case wire.DataTypeText:
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return Payload{}, fmt.Errorf("data must be a JSON string when dataType is text")
		}
		return Payload{DataType: dataType, Data: []byte(s)}, nil
	case wire.DataTypeBinary, wire.DataTypeProtobuf:
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return Payload{}, fmt.Errorf("data must be a base64 string when dataType is %s", dataType)
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return Payload{}, fmt.Errorf("data is not valid base64")
		}
		return Payload{DataType: dataType, Data: raw}, nil
	}
	return Payload{}, fmt.Errorf("unknown dataType %q: use json, text or binary", dataType)
}
