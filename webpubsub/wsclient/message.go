package wsclient

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DataType is the type of a message's data on the wire.
type DataType string

// The data types of Web PubSub messages.
const (
	// DataTypeJSON carries any JSON value; Message.Data is a json.RawMessage.
	DataTypeJSON DataType = "json"
	// DataTypeText carries a string; Message.Data is a string.
	DataTypeText DataType = "text"
	// DataTypeBinary carries bytes (base64 on the wire); Message.Data is a []byte.
	DataTypeBinary DataType = "binary"
	// DataTypeProtobuf carries protobuf bytes (base64 on the wire);
	// Message.Data is a []byte.
	DataTypeProtobuf DataType = "protobuf"
)

// Where a message comes from (Message.From).
const (
	// FromGroup marks a message published to a group, by a client or by
	// the REST API.
	FromGroup = "group"
	// FromServer marks a message sent to all, a user or a connection by
	// the REST API, or the answer of the app's event handler to an event.
	FromServer = "server"
)

// Message is a data message the client received.
type Message struct {
	// From is FromGroup or FromServer.
	From string
	// Group is the group of a group message.
	Group string
	// FromUserID is the user that published a group message from a
	// client; empty for messages sent through the REST API.
	FromUserID string
	// DataType says what Data holds.
	DataType DataType
	// Data is a json.RawMessage for DataTypeJSON, a string for
	// DataTypeText and a []byte for DataTypeBinary and DataTypeProtobuf.
	Data any
	// SequenceID is the message's sequence id on the reliable protocol
	// (0 on the plain JSON protocol).
	SequenceID uint64
}

// Bytes returns the data as bytes: the JSON text, the UTF-8 text or the
// binary bytes.
func (m Message) Bytes() []byte {
	switch d := m.Data.(type) {
	case json.RawMessage:
		return d
	case string:
		return []byte(d)
	case []byte:
		return d
	}
	return nil
}

// Payload is data to send: build it with Text, JSON, RawJSON or Binary.
type Payload struct {
	dataType DataType
	data     json.RawMessage // the value of the "data" field
	err      error
}

// Text is a text payload. Text that is not valid UTF-8 makes the send
// fail (encoding it would replace the bad bytes): send it with Binary.
func Text(s string) Payload {
	if !utf8.ValidString(s) {
		return Payload{dataType: DataTypeText, err: errors.New("wsclient: the Text payload is not valid UTF-8: send such data with Binary")}
	}
	b, _ := json.Marshal(s) // a valid string always marshals
	return Payload{dataType: DataTypeText, data: b}
}

// check returns why p cannot be sent: its encoding error, or that it is
// the zero Payload.
func (p Payload) check() error {
	if p.err != nil {
		return p.err
	}
	if p.data == nil {
		return errors.New("wsclient: the payload is empty: build it with Text, JSON, RawJSON or Binary")
	}
	return nil
}

// JSON is a JSON payload of v, marshalled with encoding/json. A value that
// cannot be marshalled makes the send fail with the marshalling error.
func JSON(v any) Payload {
	b, err := json.Marshal(v)
	if err != nil {
		err = fmt.Errorf("wsclient: encoding the JSON payload: %w", err)
	}
	return Payload{dataType: DataTypeJSON, data: b, err: err}
}

// RawJSON is a JSON payload of already encoded JSON. Text that is not
// valid JSON makes the send fail.
func RawJSON(b []byte) Payload {
	if !json.Valid(b) {
		return Payload{dataType: DataTypeJSON, err: errors.New("wsclient: the RawJSON payload is not valid JSON")}
	}
	return Payload{dataType: DataTypeJSON, data: append(json.RawMessage(nil), b...)}
}

// Binary is a binary payload (sent base64-encoded, received as []byte).
func Binary(b []byte) Payload {
	enc, _ := json.Marshal(base64.StdEncoding.EncodeToString(b)) // a string always marshals
	return Payload{dataType: DataTypeBinary, data: enc}
}

// serverFrame is one message from the service in the JSON protocols.
type serverFrame struct {
	Type              string          `json:"type"`
	Event             string          `json:"event"`
	UserID            string          `json:"userId"`
	ConnectionID      string          `json:"connectionId"`
	ReconnectionToken string          `json:"reconnectionToken"`
	Message           string          `json:"message"`
	AckID             uint64          `json:"ackId"`
	Success           bool            `json:"success"`
	Error             *ackErrorBody   `json:"error"`
	From              string          `json:"from"`
	Group             string          `json:"group"`
	FromUserID        string          `json:"fromUserId"`
	DataType          string          `json:"dataType"`
	Data              json.RawMessage `json:"data"`
	SequenceID        uint64          `json:"sequenceId"`

	// plainData: Data is a JSON string without escapes, control or
	// non-ASCII bytes, as fastParse found it (its text is Data without
	// the quotes; nothing needs checking again).
	plainData bool
}

type ackErrorBody struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// parseFrame reads one server frame. Unknown message types parse without
// error (the caller ignores them, for forward compatibility); a frame that
// is not a JSON object, or a data message whose data does not match its
// dataType, is an error. Data may alias b; names is as for fastParse.
func parseFrame(b []byte, names *nameCache) (serverFrame, error) {
	if f, ok := fastParse(b, names); ok {
		return f, nil
	}
	return parseFrameJSON(b)
}

// parseFrameJSON is parseFrame with encoding/json for every frame.
func parseFrameJSON(b []byte) (serverFrame, error) {
	var f serverFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("the service sent a frame that is not a valid JSON message: %w", err)
	}
	if f.Type == "" {
		return f, errors.New("the service sent a JSON frame without a type")
	}
	return f, nil
}

// message turns a data frame into a Message.
func (f *serverFrame) message() (Message, error) {
	m := Message{From: f.From, Group: f.Group, FromUserID: f.FromUserID, DataType: DataType(f.DataType), SequenceID: f.SequenceID}
	if len(f.Data) == 0 {
		return m, fmt.Errorf("the service sent a message of data type %.60q without data", f.DataType)
	}
	switch m.DataType {
	case DataTypeText:
		s, ok := f.dataString()
		if !ok {
			return m, errors.New("the service sent a text message whose data is not a JSON string")
		}
		m.Data = s
	case DataTypeBinary, DataTypeProtobuf:
		s, ok := f.dataString()
		if !ok {
			return m, fmt.Errorf("the service sent a %s message whose data is not a base64 string", f.DataType)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return m, fmt.Errorf("the service sent a %s message whose data is not valid base64", f.DataType)
		}
		m.Data = b
	default:
		// json, and any data type a newer service may add: the JSON value.
		if m.DataType == "" {
			m.DataType = DataTypeJSON
		}
		m.Data = json.RawMessage(bytes.Clone(f.Data)) // the frame's buffer is reused
	}
	return m, nil
}

// dataString decodes Data as a JSON string.
func (f *serverFrame) dataString() (string, bool) {
	if f.plainData {
		return string(f.Data[1 : len(f.Data)-1]), true
	}
	return jsonString(f.Data)
}

// jsonString decodes a JSON string value. The common case, a string
// without escapes, is taken as it is (one allocation); anything else goes
// through encoding/json.
func jsonString(raw []byte) (string, bool) {
	// Escapes, control bytes and non-ASCII (checked by encoding/json)
	// are not plain.
	if n := len(raw); n >= 2 && raw[0] == '"' && plainEnd(raw, 1) == n-1 {
		return string(raw[1 : n-1]), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// request is one message to the service.
type request struct {
	Type       string          `json:"type"`
	Group      string          `json:"group,omitempty"`
	Event      string          `json:"event,omitempty"`
	AckID      uint64          `json:"ackId,omitempty"`
	NoEcho     bool            `json:"noEcho,omitempty"`
	DataType   DataType        `json:"dataType,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	SequenceID uint64          `json:"sequenceId,omitempty"`
}
