package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// TestSecretsNeverLogged drives the emulator's error paths at Debug level
// (JSON and text handlers) with known secrets: both access keys, REST and
// client JWTs (valid, expired, wrong key, Entra), reconnection tokens (right
// and wrong), and checks that none appears in any log line, error body,
// close reason or String/%v output.
func TestSecretsNeverLogged(t *testing.T) {
	const key1, key2 = "primary-secret-key-0123456789abcdef", "secondary-secret-key-0123456789abcd"
	var mu sync.Mutex
	var logs strings.Builder
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	both := slog.New(multiHandler{
		slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}),
	})
	s := newTestServer(t, WithLogger(both), WithAccessKeys(key1, key2), WithUnvalidatedEntraTokens(true))
	secrets := []string{key1, key2}
	var seen []string // error bodies, close reasons, messages

	// REST: valid with either key, expired, wrong key, Entra, garbage.
	u := s.srv.URL + hubPath("hub", "/:send") + "?api-version=" + testAPIVersion
	entra := func(aud string, exp time.Time) string {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"aud": aud, "exp": exp.Unix()}).SigningString()
		return tok + ".c2lnbmF0dXJlLW9mLWVudHJh"
	}
	for _, auth := range []string{
		signToken(t, key1, jwt.MapClaims{"aud": u}),
		signToken(t, key2, jwt.MapClaims{"aud": u}),
		signToken(t, key1, jwt.MapClaims{"aud": u, "exp": time.Now().Add(-time.Hour).Unix()}),
		signToken(t, "wrong-"+key1, jwt.MapClaims{"aud": u}),
		signToken(t, key1, jwt.MapClaims{"aud": u + "&x=1"}),
		entra("https://webpubsub.azure.com", time.Now().Add(time.Hour)),
		entra("https://other.example.com", time.Now().Add(time.Hour)),
		entra("https://webpubsub.azure.com", time.Now().Add(-time.Hour)),
		"not-a-jwt-" + key1,
	} {
		secrets = append(secrets, auth)
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("x"))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+auth)
		resp, body := s.do(req)
		seen = append(seen, string(body), fmt.Sprint(resp.Header))
	}

	// Clients: token in the query and in the header, expired, wrong key.
	good := s.clientURL("hub", clientOpts{user: "u"})
	tok, _ := url.QueryUnescape(good[strings.Index(good, "access_token=")+len("access_token="):])
	secrets = append(secrets, tok)
	c := s.dialURL(good, wire.SubprotocolJSONReliable)
	secrets = append(secrets, c.token)
	for _, bad := range []string{
		signToken(t, key1, jwt.MapClaims{"aud": s.srv.URL + wire.ClientPathDefault + "hub", "exp": time.Now().Add(-time.Hour).Unix()}),
		signToken(t, "wrong-"+key2, jwt.MapClaims{"aud": s.srv.URL + wire.ClientPathDefault + "hub"}),
	} {
		secrets = append(secrets, bad)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, resp, err := websocket.Dial(ctx, wire.WebSocketScheme(s.srv.URL)+wire.ClientPathDefault+"hub?access_token="+url.QueryEscape(bad), nil)
		cancel()
		if err == nil {
			t.Fatal("a bad client token was accepted")
		}
		if resp != nil {
			seen = append(seen, err.Error(), fmt.Sprint(resp.Header))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wire.WebSocketScheme(s.srv.URL)+wire.ClientPathDefault+"hub", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.CloseNow()

	// Reliable reconnects: wrong token, then the right one.
	_ = c.ws.CloseNow()
	wrong := s.dialURL(c.url+"&awps_connection_id="+c.id+"&awps_reconnection_token=wrong-"+url.QueryEscape(c.token), wire.SubprotocolJSONReliable)
	_ = wrong.closeStatus()
	rc := s.dialURL(recoveryURL(c), wire.SubprotocolJSONReliable) // its connected message carries the reconnection token by design
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/users/u/:send"), nil, "text/plain", []byte("x"))
	rc.next()
	_ = rc.ws.Close(websocket.StatusNormalClosure, "")

	// Minted client tokens are output, but must not reach the logs.
	minted := s.mustStatus(200, http.MethodPost, hubPath("hub", "/:generateToken"), url.Values{"userId": {"u"}}, "", nil)
	var mt struct{ Token string }
	_ = json.Unmarshal(minted, &mt)
	secrets = append(secrets, mt.Token)

	seen = append(seen, fmt.Sprintf("%v %+v %#v %s", s.e, s.e, s.e, s.e))
	eventually(t, "disconnect logged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "connection ended") || strings.Count(logs.String(), "disconnect") >= 1
	})
	mu.Lock()
	all := logs.String()
	mu.Unlock()
	if !strings.Contains(all, "level=DEBUG") && !strings.Contains(all, `"level":"DEBUG"`) {
		t.Logf("no Debug lines were written (the emulator logs at Info and above)")
	}
	texts := append(seen, all)
	for _, secret := range secrets {
		if len(secret) < 8 {
			t.Fatalf("test secret %q too short to search for", secret)
		}
		for _, text := range texts {
			if strings.Contains(text, secret) {
				t.Errorf("secret %.16q… appears in %.300q", secret, text)
			}
		}
	}
	if strings.Contains(all, "eyJ") {
		t.Errorf("logs contain something that looks like a JWT:\n%s", all)
	}
	t.Logf("%d secrets checked against %d bytes of logs and %d other texts", len(secrets), len(all), len(seen))
}

// multiHandler writes each record to several handlers.
type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, l slog.Level) bool { return m[0].Enabled(ctx, l) }
func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range m {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}
func (m multiHandler) WithAttrs(a []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(a)
	}
	return out
}
func (m multiHandler) WithGroup(g string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(g)
	}
	return out
}
