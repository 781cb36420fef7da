package wsclient

import (
	"encoding/binary"
	"strconv"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// fastParse decodes the frames the service sends in the common shapes (a
// flat object of known keys with plain strings, unsigned integers, a
// boolean and a data value) without encoding/json's reflection. Anything
// else (escapes, non-ASCII text, null, unknown or differently cased keys,
// an error object) reports ok=false, and parseFrame decodes it. Data
// aliases b. names, when not nil, lends the strings of the last group and
// sender (one reader's cache).
func fastParse(b []byte, names *nameCache) (f serverFrame, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return f, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return f, false // no type: parseFrame says so
	}
	for {
		kb, j, ok := plainBytes(b, i)
		if !ok {
			return f, false
		}
		key := string(kb) // not allocated: only compared
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return f, false
		}
		i = skipSpace(b, i+1)
		switch key {
		case "ackId", "sequenceId":
			j := i
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j == i || j-i > 1 && b[i] == '0' {
				return f, false
			}
			n, err := strconv.ParseUint(string(b[i:j]), 10, 64)
			if err != nil {
				return f, false
			}
			if key == "ackId" {
				f.AckID = n
			} else {
				f.SequenceID = n
			}
			i = j
		case "success":
			switch {
			case len(b)-i >= 4 && string(b[i:i+4]) == "true":
				f.Success, i = true, i+4
			case len(b)-i >= 5 && string(b[i:i+5]) == "false":
				f.Success, i = false, i+5
			default:
				return f, false
			}
		case "data":
			j, ok := skipValue(b, i)
			if !ok {
				return f, false
			}
			f.Data = b[i:j:j]
			f.plainData = b[i] == '"' // skipValue takes only plain strings
			i = j
		default:
			field := f.stringField(key)
			if field == nil {
				return f, false // an unknown key: encoding/json decides
			}
			v, j, ok := plainBytes(b, i)
			if !ok {
				return f, false
			}
			*field, i = names.value(key, v), j
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return f, false
		}
		if b[i] == '}' {
			if skipSpace(b, i+1) != len(b) || f.Type == "" {
				return f, false
			}
			return f, true
		}
		if b[i] != ',' {
			return f, false
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainBytes reads a string of printable ASCII without escapes at b[i].
func plainBytes(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	j := plainEnd(b, i+1)
	if j < len(b) && b[j] == '"' {
		return b[i+1 : j], j + 1, true
	}
	return nil, i, false
}

// plainEnd returns the index of the first byte at or after i that ends a
// plain string: a quote, a backslash, a control byte or a non-ASCII byte
// (len(b) when there is none). It is the inner loop of decoding a frame,
// so it tests eight bytes at a time, and only a word that may hold such a
// byte is looked at byte by byte.
func plainEnd(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if mayStopPlain(binary.LittleEndian.Uint64(b[i:])) {
			for j := i; j < i+8; j++ {
				if stopsPlain[b[j]] {
					return j
				}
			}
		}
	}
	for i < len(b) && !stopsPlain[b[i]] {
		i++
	}
	return i
}

// mayStopPlain reports whether one of the eight bytes of w may be one
// plainEnd stops at. It never misses one (it may report a word that has
// none; the byte loop then goes on past it).
func mayStopPlain(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	control := (w - 0x20*ones) & ^w & highs // a byte below 0x20 (exact when no byte has its high bit)
	return (w&highs)|control|hasZero(w^('"'*ones))|hasZero(w^('\\'*ones)) != 0
}

// stopsPlain marks the bytes plainEnd stops at.
var stopsPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

// intern returns the protocol's own constants without an allocation.
func intern(v []byte) string {
	switch string(v) {
	case wire.TypeMessage:
		return wire.TypeMessage
	case wire.TypeAck:
		return wire.TypeAck
	case wire.TypeSystem:
		return wire.TypeSystem
	case wire.TypePong:
		return wire.TypePong
	case wire.FromGroup:
		return wire.FromGroup
	case wire.FromServer:
		return wire.FromServer
	case wire.DataTypeJSON:
		return wire.DataTypeJSON
	case wire.DataTypeText:
		return wire.DataTypeText
	case wire.DataTypeBinary:
		return wire.DataTypeBinary
	case wire.SystemEventConnected:
		return wire.SystemEventConnected
	case wire.SystemEventDisconnected:
		return wire.SystemEventDisconnected
	}
	return string(v)
}

// nameCache keeps the group and the sender of the last message a reader
// decoded: a stream of messages from one group and sender costs no
// allocation for either name.
type nameCache [2]string

// The slots of a nameCache.
const (
	slotGroup = iota
	slotFromUserID
)

// value returns the string of the field key: the group and the sender
// from the cache (compared without an allocation, kept when new), the
// protocol's constants interned, anything else allocated. A nil cache
// allocates the names each time.
func (n *nameCache) value(key string, v []byte) string {
	slot := slotGroup
	switch key {
	case "group":
	case "fromUserId":
		slot = slotFromUserID
	default:
		return intern(v)
	}
	if n == nil {
		return string(v)
	}
	if n[slot] != string(v) {
		n[slot] = string(v)
	}
	return n[slot]
}

// stringField returns the field of f that the frame key holds as a
// string, or nil when key is not one.
func (f *serverFrame) stringField(key string) *string {
	switch key {
	case "type":
		return &f.Type
	case "event":
		return &f.Event
	case "userId":
		return &f.UserID
	case "connectionId":
		return &f.ConnectionID
	case "reconnectionToken":
		return &f.ReconnectionToken
	case "message":
		return &f.Message
	case "from":
		return &f.From
	case "group":
		return &f.Group
	case "fromUserId":
		return &f.FromUserID
	case "dataType":
		return &f.DataType
	}
	return nil
}

// skipValue finds the end of the data value at b[i]: a plain string, or
// any other JSON value that json.Valid accepts (null is not taken).
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	if b[i] == '"' {
		_, j, ok := plainBytes(b, i)
		return j, ok
	}
	if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
		return i, false // encoding/json decides what a null data means
	}
	return wire.JSONValueEnd(b, i) // delimited and validated in one pass
}
