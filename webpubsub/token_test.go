package webpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

func TestClientAccessTokenWithKey(t *testing.T) {
	c, err := NewClientFromConnectionString("Endpoint=http://localhost;Port=8080;AccessKey="+testKey, "chat")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name       string
		opts       *TokenOptions
		wantBase   string
		wantClaims map[string]any
		wantHeader map[string]any
		wantLife   time.Duration
	}{
		{"nil options", nil, "ws://localhost:8080/client/hubs/chat",
			map[string]any{"aud": "http://localhost:8080/client/hubs/chat"}, nil, time.Hour},
		{"everything", &TokenOptions{UserID: "user 1", Roles: []string{"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup.g"}, Groups: []string{"g", "h"},
			Expiry: 10 * time.Minute, JWTHeaders: map[string]any{"kid": "key-1"}}, "ws://localhost:8080/client/hubs/chat",
			map[string]any{"aud": "http://localhost:8080/client/hubs/chat", "sub": "user 1",
				"role": []any{"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup.g"}, "webpubsub.group": []any{"g", "h"}},
			map[string]any{"kid": "key-1"}, 10 * time.Minute},
		{"mqtt", &TokenOptions{Protocol: ClientProtocolMQTT, Roles: []string{}}, "ws://localhost:8080/clients/mqtt/hubs/chat",
			map[string]any{"aud": "http://localhost:8080/clients/mqtt/hubs/chat"}, nil, time.Hour},
		{"socketio", &TokenOptions{Protocol: ClientProtocolSocketIO}, "ws://localhost:8080/clients/socketio/hubs/chat",
			map[string]any{"aud": "http://localhost:8080/clients/socketio/hubs/chat"}, nil, time.Hour},
	}
	for _, tt := range tests {
		before := time.Now().Truncate(time.Second)
		tok, err := c.ClientAccessToken(ctx, tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tok.BaseURL != tt.wantBase || tok.URL != tt.wantBase+"?access_token="+url.QueryEscape(tok.Token) {
			t.Errorf("%s: BaseURL %q URL %q", tt.name, tok.BaseURL, tok.URL)
		}
		claims := jwt.MapClaims{}
		parsed, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(tok.Token, claims, func(*jwt.Token) (any, error) { return []byte(testKey), nil })
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		iat, _ := claims.GetIssuedAt()
		exp, _ := claims.GetExpirationTime()
		if iat.Before(before) || exp.Sub(iat.Time) != tt.wantLife || !tok.ExpiresAt.Equal(exp.Time) {
			t.Errorf("%s: iat %v exp %v ExpiresAt %v", tt.name, iat, exp, tok.ExpiresAt)
		}
		delete(claims, "iat")
		delete(claims, "exp")
		if diff := cmp.Diff(tt.wantClaims, map[string]any(claims)); diff != "" {
			t.Errorf("%s: claims (-want +got):\n%s", tt.name, diff)
		}
		for k, v := range tt.wantHeader {
			if parsed.Header[k] != v {
				t.Errorf("%s: header %s = %v", tt.name, k, parsed.Header[k])
			}
		}
		if s := fmt.Sprintf("%v %+v %#v", *tok, *tok, *tok); strings.Contains(s, tok.Token) {
			t.Errorf("%s: printing the token reveals it: %s", tt.name, s)
		}
	}
	hc, _ := NewClientFromConnectionString("Endpoint=https://x.webpubsub.azure.com/;AccessKey=k", "Hub")
	tok, _ := hc.ClientAccessToken(ctx, nil)
	if tok.BaseURL != "wss://x.webpubsub.azure.com/client/hubs/Hub" {
		t.Errorf("https endpoint: %q", tok.BaseURL)
	}
	for _, bad := range []struct {
		opts *TokenOptions
		want string
	}{
		{&TokenOptions{Protocol: "signalr"}, "client protocol"},
		{&TokenOptions{Expiry: -time.Minute}, "negative"},
		{&TokenOptions{Roles: []string{""}}, "role is empty"},
		{&TokenOptions{Groups: []string{""}}, "group name is empty"},
		{&TokenOptions{JWTHeaders: map[string]any{"alg": "none"}}, `cannot set "alg"`},
		{&TokenOptions{JWTHeaders: map[string]any{"x": func() {}}}, "cannot be encoded"},
	} {
		if _, err := c.ClientAccessToken(ctx, bad.opts); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v", bad.opts, err)
		}
	}
	var nilCtx context.Context
	if _, err := c.ClientAccessToken(nilCtx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("nil ctx: %v", err)
	}
}

func TestClientAccessTokenWithEntra(t *testing.T) {
	f := newFakeService(t, "/pre")
	f.key = ""
	exp := time.Now().Add(90 * time.Minute).Truncate(time.Second)
	served := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": exp.Unix(), "aud": "x"})
	servedTok, _ := served.SignedString([]byte("service-secret"))
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"token": servedTok})
	})
	cred := &fakeCredential{lifetime: time.Hour}
	c, err := NewClient(f.url(), "chat", cred)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := c.ClientAccessToken(ctx, &TokenOptions{UserID: "u/1", Roles: []string{"r1", "r 2"}, Groups: []string{"g1", "g2"}, Expiry: 90*time.Minute + time.Second, Protocol: ClientProtocolMQTT})
	if err != nil {
		t.Fatal(err)
	}
	want := []wireRequest{{Method: "POST", URI: "/api/hubs/chat/:generateToken?userId=u%2F1&role=r1&role=r+2&minutesToExpire=91&api-version=" + APIVersion + "&group=g1&group=g2&clientType=MQTT"}}
	if diff := cmp.Diff(want, f.take()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	host := strings.TrimPrefix(f.srv.URL, "http://")
	if tok.Token != servedTok || tok.BaseURL != "ws://"+host+"/pre/clients/mqtt/hubs/chat" || !tok.ExpiresAt.Equal(exp) {
		t.Errorf("token %+v", tok)
	}
	if _, err := c.ClientAccessToken(ctx, &TokenOptions{Expiry: time.Second}); err != nil {
		t.Fatal(err)
	}
	if got := f.take(); len(got) != 1 || got[0].URI != "/api/hubs/chat/:generateToken?minutesToExpire=1&api-version="+APIVersion {
		t.Errorf("short expiry: %+v", got)
	}
	if _, err := c.ClientAccessToken(ctx, &TokenOptions{JWTHeaders: map[string]any{"kid": "k"}}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("JWTHeaders with Entra: %v", err)
	}
	old, _ := NewClient(f.url(), "chat", cred, WithAPIVersion("2021-10-01"))
	if _, err := old.ClientAccessToken(ctx, &TokenOptions{Groups: []string{"g"}}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "2022-11-01") {
		t.Errorf("groups on 2021: %v", err)
	}
	if _, err := old.ClientAccessToken(ctx, &TokenOptions{Protocol: ClientProtocolSocketIO}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "2024-01-01") {
		t.Errorf("socketio on 2021: %v", err)
	}
	// Errors and bad bodies.
	f.setHandler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	var re *ResponseError
	if _, err := c.ClientAccessToken(ctx, nil); !errors.As(err, &re) || re.Operation != "ClientAccessToken" || re.StatusCode != 403 {
		t.Errorf("403: %v", err)
	}
	f.setHandler(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"token":""}`)) })
	if _, err := c.ClientAccessToken(ctx, nil); err == nil || !strings.Contains(err.Error(), "holds no token") {
		t.Errorf("empty token: %v", err)
	}
	f.setHandler(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"token":"opaque"}`)) })
	before := time.Now()
	tok, err = c.ClientAccessToken(ctx, nil)
	if err != nil || tok.ExpiresAt.Before(before.Add(time.Hour)) || tok.ExpiresAt.After(time.Now().Add(time.Hour)) {
		t.Errorf("opaque token: %+v %v", tok, err)
	}
	cred.err = errors.New("down")
	cred2 := &fakeCredential{err: errors.New("down")}
	c2, _ := NewClient(f.url(), "chat", cred2)
	if _, err := c2.ClientAccessToken(ctx, nil); err == nil {
		t.Error("credential failure not reported")
	}
	f.take()
}
