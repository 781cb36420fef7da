package webpubsub

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// sink accepts every request and discards it.
func sink(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkSendToAll(b *testing.B) {
	srv := sink(b)
	c, err := NewClientFromConnectionString("Endpoint="+srv.URL+";AccessKey="+testKey, "chat")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	payload := []byte(`{"hello":"world","n":12345}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.SendToAll(ctx, RawJSON(payload), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBarePOSTWithJWT is the floor SendToAll is compared with: one
// net/http POST signed with one HS256 JWT.
func BenchmarkBarePOSTWithJWT(b *testing.B) {
	srv := sink(b)
	hc := &http.Client{}
	u := srv.URL + "/api/hubs/chat/:send?api-version=2024-12-01"
	payload := []byte(`{"hello":"world","n":12345}`)
	key := []byte(testKey)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		now := time.Now()
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, restClaims{Aud: u, Exp: now.Add(restTokenLifetime).Unix(), Iat: now.Unix()}).SignedString(key)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}
