package webpubsub

import (
	"bytes"
	"encoding/json"
	"io"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// Message is the body of a send, with its content type. Build one with
// JSON, RawJSON, Text, Binary or Stream; the zero Message is refused by
// every send.
//
// Messages built from values (JSON, RawJSON, Text, Binary) can be sent any
// number of times and are replayed exactly when a try is retried. A Stream
// message is read once; see Stream for how retries treat it.
type Message struct {
	contentType string
	body        []byte
	reader      io.Reader
	err         error
}

// JSON returns a message with v encoded by encoding/json, sent as
// application/json. An encoding error is returned by the send.
func JSON(v any) Message {
	b, err := json.Marshal(v)
	if err != nil {
		return Message{contentType: wire.ContentTypeJSON, err: invalidArg("JSON message: %v", err)}
	}
	return Message{contentType: wire.ContentTypeJSON, body: b}
}

// RawJSON returns a message of already-encoded JSON, sent as
// application/json without re-encoding. The send refuses b if it is not
// valid JSON or not valid UTF-8 (which JSON requires and WebSocket text
// frames carry). b is not copied: do not modify it until the send returns.
func RawJSON(b []byte) Message {
	if !wire.ValidJSON(b) {
		return Message{contentType: wire.ContentTypeJSON, err: invalidArg("RawJSON message is not valid JSON")}
	}
	if !utf8.Valid(b) {
		return Message{contentType: wire.ContentTypeJSON, err: invalidArg("RawJSON message is not valid UTF-8, which JSON requires")}
	}
	return Message{contentType: wire.ContentTypeJSON, body: b}
}

// Text returns a text/plain message. The send refuses s if it is not valid
// UTF-8: clients receive text in WebSocket text frames, which must be
// UTF-8; send other bytes with Binary.
func Text(s string) Message {
	if !utf8.ValidString(s) {
		return Message{contentType: wire.ContentTypeText, err: invalidArg("Text message is not valid UTF-8: send other bytes with Binary")}
	}
	return Message{contentType: wire.ContentTypeText, body: []byte(s)}
}

// Binary returns an application/octet-stream message. b is not copied: do
// not modify it until the send returns.
func Binary(b []byte) Message {
	if b == nil {
		b = []byte{}
	}
	return Message{contentType: wire.ContentTypeBinary, body: b}
}

// Stream returns a message whose body is read from r, for payloads too
// large to hold in memory. contentType must be "application/json",
// "text/plain" or "application/octet-stream" (parameters such as
// "; charset=utf-8" are allowed); the send refuses anything else.
//
// If r is an io.ReadSeeker, a retried try seeks back to the position r had
// when the send started and sends the same bytes again. Otherwise the body
// can be sent only once: the client never retries such a send, and returns
// the first try's outcome. A Stream message belongs to one send.
func Stream(contentType string, r io.Reader) Message {
	m := Message{contentType: contentType, reader: r}
	if r == nil {
		m.err = invalidArg("Stream message has a nil reader")
	} else if !validContentType(contentType) {
		m.err = invalidArg("Stream content type %q must be application/json, text/plain or application/octet-stream", contentType)
	}
	return m
}

// BinaryReader is Stream("application/octet-stream", r).
func BinaryReader(r io.Reader) Message { return Stream(wire.ContentTypeBinary, r) }

// ContentType returns the media type the message is sent with:
// "application/json", "text/plain" or "application/octet-stream" (or the
// content type given to Stream).
func (m Message) ContentType() string { return m.contentType }

// validContentType reports whether ct's media type is one the service
// accepts.
func validContentType(ct string) bool {
	mt := ct
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			mt = ct[:i]
			break
		}
	}
	mt = string(bytes.ToLower(bytes.TrimSpace([]byte(mt))))
	return mt == wire.ContentTypeJSON || mt == wire.ContentTypeText || mt == wire.ContentTypeBinary
}

// bodyReader checks the message and returns the reader to hand to the
// request builder.
func (m *Message) bodyReader() (io.Reader, error) {
	if m.err != nil {
		return nil, m.err
	}
	if m.contentType == "" {
		return nil, invalidArg("message is empty: build it with JSON, RawJSON, Text, Binary or Stream")
	}
	if m.reader != nil {
		return m.reader, nil
	}
	return bytes.NewReader(m.body), nil
}
