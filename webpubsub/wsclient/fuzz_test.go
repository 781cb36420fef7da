package wsclient

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParseFrame feeds arbitrary server frames to the parser and the
// message decoder: they return a value or an error, never panic, and a
// decoded message's data has the Go type its data type promises.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		connectedJSON,
		`{"type":"system","event":"disconnected","message":"bye"}`,
		`{"type":"ack","ackId":1,"success":false,"error":{"name":"Duplicate","message":"x"}}`,
		`{"type":"message","from":"group","group":"g","fromUserId":"u","dataType":"json","data":{"a":[1,2]},"sequenceId":7}`,
		`{"type":"message","from":"server","dataType":"text","data":"hi"}`,
		`{"type":"message","from":"server","dataType":"binary","data":"AAEC"}`,
		`{"type":"pong"}`,
		`{"type":"message","dataType":"text","data":1}`,
		`[]`, `{`, ``,
		`{"type":"message","from":"group","group":"g","dataType":"json","data":{"a":"}","b":[1,{"c":2}]},"sequenceId":12}`,
		`{ "type" : "ack" , "ackId" : 3 , "success" : false , "error" : {"name":"Forbidden","message":"no"} }`,
		`{"type":"message","dataType":"text","data":"a\"b","Type":"x"}`,
		`{"type":"message","data":[1,2,}`,
		`{"type":"message","data":null,"ackId":01}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// The fast decoder agrees with encoding/json whenever it answers.
		// The name cache starts with other names (a miss), then holds
		// this frame's (a hit): both answers are the same.
		names := &nameCache{"another group", "another user"}
		for range 2 {
			if fast, ok := fastParse(append([]byte(nil), b...), names); ok {
				slow, err := parseFrameJSON(b)
				if err != nil {
					t.Fatalf("fastParse took %q, encoding/json refuses it: %v", b, err)
				}
				if diff := cmp.Diff(slow, fast, cmpopts.IgnoreUnexported(serverFrame{})); diff != "" {
					t.Fatalf("fastParse(%q) (-encoding/json +fast):\n%s", b, diff)
				}
			}
		}
		fr, err := parseFrame(b, nil)
		if err != nil || fr.Type != "message" {
			return
		}
		m, err := fr.message()
		// The message is the same whichever decoder read the frame.
		if slow, serr := parseFrameJSON(b); serr == nil {
			sm, smErr := slow.message()
			if (err == nil) != (smErr == nil) {
				t.Fatalf("message(%q): fast decoder error %v, encoding/json error %v", b, err, smErr)
			}
			if diff := cmp.Diff(sm, m); err == nil && diff != "" {
				t.Fatalf("message(%q) (-encoding/json +fast):\n%s", b, diff)
			}
		}
		if err != nil {
			return
		}
		switch m.DataType {
		case DataTypeText:
			if _, ok := m.Data.(string); !ok {
				t.Fatalf("text data is %T", m.Data)
			}
		case DataTypeBinary, DataTypeProtobuf:
			if _, ok := m.Data.([]byte); !ok {
				t.Fatalf("binary data is %T", m.Data)
			}
		}
		_ = m.Bytes()
		_ = ackResult(&fr, func() []string { return nil })
	})
}

func TestJSONString(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"plain"`, "plain", true},
		{`""`, "", true},
		{`"a\nb"`, "a\nb", true},
		{`"\u00fc"`, "ü", true},
		{`"ü"`, "ü", true},
		{`"\/"`, "/", true},
		{`"a"b"`, "", false},
		{`1`, "", false},
		{`"`, "", false},
	}
	for _, tt := range tests {
		got, ok := jsonString([]byte(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("jsonString(%s) = %q, %t; want %q, %t", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

// The fast path agrees with encoding/json on every input.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"x"`, `"a\"b"`, `"\ud800"`, `"é"`, `"` + "\x01" + `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := jsonString(b)
		var want string
		err := json.Unmarshal(b, &want)
		if ok != (err == nil) || ok && got != want {
			t.Fatalf("jsonString(%q) = %q, %t; encoding/json: %q, %v", b, got, ok, want, err)
		}
	})
}

// FuzzPlainEnd checks the word-at-a-time scan against a byte loop, from
// every starting index.
func FuzzPlainEnd(f *testing.F) {
	for _, s := range []string{
		"", "a", `abcdefgh"`, "abcdefghijklmnop\\q", "0123456789abcdef\x1f", "héllo wörld, plain ascii here",
		"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x20", "        ", "!!!!!!!!\"", "\x80", "abcdefg\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := 0; i <= len(b); i++ {
			want := i
			for want < len(b) && !(b[want] == '"' || b[want] == '\\' || b[want] < 0x20 || b[want] >= 0x80) {
				want++
			}
			if got := plainEnd(b, i); got != want {
				t.Fatalf("plainEnd(%q, %d) = %d, want %d", b, i, got, want)
			}
		}
	})
}
