package webpubsub

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh"

// wireRequest is what the fake service saw.
type wireRequest struct {
	Method      string
	URI         string // RequestURI without the mount prefix
	ContentType string
	Body        string
}

// fakeService records requests under a path prefix and checks every JWT.
type fakeService struct {
	t      testing.TB
	srv    *httptest.Server
	prefix string
	key    string

	mu      sync.Mutex
	reqs    []wireRequest
	auths   []string
	uas     []string
	jwtErrs []string
	handler func(w http.ResponseWriter, r *http.Request) // nil: 200
}

func newFakeService(t testing.TB, prefix string) *fakeService {
	f := &fakeService{t: t, prefix: prefix, key: testKey}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	uri := r.RequestURI
	if !strings.HasPrefix(uri, f.prefix+"/") {
		f.mu.Lock()
		f.jwtErrs = append(f.jwtErrs, "request outside the prefix: "+uri)
		f.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	f.reqs = append(f.reqs, wireRequest{Method: r.Method, URI: strings.TrimPrefix(uri, f.prefix), ContentType: r.Header.Get("Content-Type"), Body: string(body)})
	f.auths = append(f.auths, auth)
	f.uas = append(f.uas, r.Header.Get("User-Agent"))
	if f.key != "" {
		if err := checkRESTJWT(auth, f.key, "http://"+r.Host+uri); err != "" {
			f.jwtErrs = append(f.jwtErrs, err)
		}
	}
	h := f.handler
	f.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// checkRESTJWT verifies the signature, algorithm, aud and lifetime of a
// REST token; it returns "" when all is well.
func checkRESTJWT(auth, key, wantAud string) string {
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return "no bearer token"
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuedAt()).ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(key), nil })
	if err != nil {
		return "jwt: " + err.Error()
	}
	if claims["aud"] != wantAud {
		return "aud " + claims["aud"].(string) + " != " + wantAud
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if exp == nil || iat == nil || exp.Sub(iat.Time) != restTokenLifetime {
		return "lifetime is not 5 minutes"
	}
	return ""
}

func (f *fakeService) url() string { return f.srv.URL + f.prefix }

func (f *fakeService) connString() string {
	return "Endpoint=" + f.url() + ";AccessKey=" + testKey + ";Version=1.0;"
}

func (f *fakeService) take() []wireRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reqs
	f.reqs = nil
	if len(f.jwtErrs) > 0 {
		f.t.Errorf("bad requests: %v", f.jwtErrs)
		f.jwtErrs = nil
	}
	return r
}

func (f *fakeService) setHandler(h func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	f.handler = h
	f.mu.Unlock()
}

// newTestClient returns a key-authenticated client for f with no retry
// waits.
func newTestClient(t testing.TB, f *fakeService, opts ...Option) *Client {
	t.Helper()
	c, err := NewClientFromConnectionString(f.connString(), "chat", opts...)
	if err != nil {
		t.Fatal(err)
	}
	c.pipe.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return c
}
