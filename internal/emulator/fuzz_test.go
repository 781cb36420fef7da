package emulator

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// FuzzClientMessage feeds arbitrary frames to the parser of the json
// subprotocols: parsing never panics, and a payload it accepts is written
// back to receivers as a well-formed message whose data decodes to the
// same payload (a client can never inject fields into other clients'
// messages).
func FuzzClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"sendToGroup","group":"g","dataType":"text","data":"hi","ackId":1}`,
		`{"type":"sendToGroup","group":"g","dataType":"json","data":{"a":[1,2,{"b":null}]}}`,
		`{"type":"sendToGroup","group":"g","dataType":"binary","data":"AAEC"}`,
		`{"type":"event","event":"e","dataType":"json","data":"x\",\"from\":\"forged"}`,
		`{"type":"event","event":"e","dataType":"protobuf","data":"!!"}`,
		`{"type":"joinGroup","group":"g","ackId":18446744073709551615}`,
		`{"type":"sequenceAck","sequenceId":-1}`,
		`{"type":"sendToGroup","group":"g","dataType":"json","data":1,"data":2}`,
		`{"type":"x","dataType":"text","data":"\ud800"}`,
		`[]`, `null`, `"`, `{"data":}`, strings.Repeat(`{"a":`, 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frameIn []byte) {
		var m clientMessage
		if err := json.Unmarshal(frameIn, &m); err != nil {
			return // the connection ends with "not a valid JSON object"
		}
		p, err := decodeClientData(m.DataType, m.Data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		group := "g"
		if m.Group != nil {
			group = *m.Group
		}
		d := &delivery{from: wire.FromGroup, group: group, fromUserID: "u", hasFrom: true, payload: p}
		for _, kind := range []protocolKind{protocolJSON, protocolReliable} {
			var seq uint64 // the engine numbers only reliable connections' messages
			if kind == protocolReliable {
				seq = 7
			}
			out := d.frameFor(kind, seq)
			var got struct {
				Type       string          `json:"type"`
				From       string          `json:"from"`
				Group      string          `json:"group"`
				FromUserID string          `json:"fromUserId"`
				DataType   string          `json:"dataType"`
				Data       json.RawMessage `json:"data"`
				SequenceID uint64          `json:"sequenceId"`
			}
			dec := json.NewDecoder(strings.NewReader(string(out.data)))
			if err := dec.Decode(&got); err != nil || dec.More() {
				t.Fatalf("frame for %q is not one JSON object: %s (%v)", frameIn, out.data, err)
			}
			if got.Type != wire.TypeMessage || got.From != wire.FromGroup || got.FromUserID != "u" || (kind == protocolReliable) != (got.SequenceID == 7) {
				t.Fatalf("frame for %q has forged fields: %s", frameIn, out.data)
			}
			back, err := decodeClientData(got.DataType, got.Data)
			if err != nil || back.DataType != p.DataType || string(back.Data) != string(p.Data) && p.DataType != wire.DataTypeJSON {
				t.Fatalf("payload %q/%q came back as %q/%q (%v)", p.DataType, p.Data, back.DataType, back.Data, err)
			}
			if p.DataType == wire.DataTypeJSON && !json.Valid(got.Data) {
				t.Fatalf("JSON payload %q written as invalid JSON %q", p.Data, got.Data)
			}
		}
	})
}

// FuzzTokenVerification checks the REST and client token checks with
// arbitrary tokens: no panic, an accepted token really is HS256-signed
// with one of the keys, unexpired, and names the request URL (REST) or
// the hub's client endpoint (clients); and no error repeats a key.
func FuzzTokenVerification(f *testing.F) {
	const key1, key2 = "fuzz-key-one-0123456789abcdef", "fuzz-key-two-0123456789abcdef"
	e, err := New(WithAccessKeys(key1, key2), WithKeepAlive(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close() })
	const restURL = "http://127.0.0.1:1/api/hubs/hub/:send?api-version=" + wire.APIVersion
	const clientAud = "http://127.0.0.1:1/client/hubs/hub"
	sign := func(key string, claims jwt.MapClaims, m jwt.SigningMethod) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString([]byte(key))
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(24 * time.Hour).Unix()
	f.Add(sign(key1, jwt.MapClaims{"aud": restURL, "exp": exp}, jwt.SigningMethodHS256))
	f.Add(sign(key2, jwt.MapClaims{"aud": clientAud, "exp": exp, "sub": "u", "role": []string{"webpubsub.joinLeaveGroup"}}, jwt.SigningMethodHS256))
	f.Add(sign(key1, jwt.MapClaims{"aud": restURL, "exp": exp}, jwt.SigningMethodHS512))
	f.Add(sign("other", jwt.MapClaims{"aud": restURL, "exp": exp}, jwt.SigningMethodHS256))
	f.Add(sign(key1, jwt.MapClaims{"aud": restURL}, jwt.SigningMethodHS256))
	f.Add(sign(key1, jwt.MapClaims{"aud": restURL, "exp": 1}, jwt.SigningMethodHS256))
	f.Add(sign(key1, jwt.MapClaims{"aud": []any{1, restURL}, "exp": exp, "group": []any{" "}}, jwt.SigningMethodHS256))
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhdWQiOiJ4In0.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		verified := func() bool {
			for _, k := range []string{key1, key2} {
				_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(k), nil },
					jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Second))
				if err == nil {
					return true
				}
			}
			return false
		}
		noKey := func(err error) {
			if err != nil && (strings.Contains(err.Error(), key1) || strings.Contains(err.Error(), key2)) {
				t.Fatalf("error repeats a key: %v", err)
			}
		}
		r := httptest.NewRequest("POST", restURL, nil)
		r.Header.Set(wire.HeaderAuthorization, "Bearer "+tok)
		err := e.authenticateREST(r)
		noKey(err)
		if err == nil {
			if !verified() {
				t.Fatalf("REST accepted a token no key verifies: %q", tok)
			}
			claims, _ := e.parseKeyToken(strings.TrimSpace(tok))
			aud, _ := claims.GetAudience()
			found := false
			for _, a := range aud {
				found = found || a == restURL
			}
			if !found {
				t.Fatalf("REST accepted aud %v for %s", aud, restURL)
			}
		}
		q := httptest.NewRequest("GET", "http://127.0.0.1:1/client/hubs/hub?access_token="+url.QueryEscape(tok), nil)
		cc, err := e.authenticateClient(q, "hub")
		noKey(err)
		if err == nil {
			if !verified() {
				t.Fatalf("client endpoint accepted a token no key verifies: %q", tok)
			}
			for _, g := range cc.groups {
				if validateGroup(g) != nil {
					t.Fatalf("accepted invalid group %q", g)
				}
			}
		}
	})
}
