package webpubsub

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	azruntime "github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel"
	"github.com/golang-jwt/jwt/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The benchmarks here compare the client with the limit it is held to: a
// bare net/http POST of the same request, signed with one HS256 JWT and
// nothing else, against the same in-process sink. Run them interleaved and
// compare with benchstat (see docs/PERFORMANCE.md):
//
//	go test -run='^$' -bench='SendToAll|ClientAccessToken' -benchmem -count=6 ./webpubsub
//
// Allocation figures include the sink's own allocations (it runs in the
// same process); bench/cmd/compare measures the client side alone.

// sink accepts every request with 202 and discards its body.
func sink(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchHTTPClient keeps enough idle connections for every sender in flight;
// the SDK and the bare loop each get one of their own.
func benchHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}

// jsonPayload returns a JSON object of exactly n bytes (n >= 16).
func jsonPayload(n int) []byte {
	head := `{"n":12345,"p":"`
	return []byte(head + strings.Repeat("x", n-len(head)-2) + `"}`)
}

// payloadSizes are the message sizes the send benchmarks sweep.
var payloadSizes = []struct {
	name string
	n    int
}{{"100B", 100}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// inFlight runs send from `senders` goroutines until b.Loop ends; each
// iteration of b.Loop is one send.
func inFlight(b *testing.B, senders int, send func() error) {
	b.Helper()
	if senders == 1 {
		for b.Loop() {
			if err := send(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	work := make(chan struct{}, senders)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range senders {
		wg.Go(func() {
			for range work {
				if err := send(); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	for b.Loop() {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

// bareSender is the limit: one POST with one HS256 JWT, nothing else.
func bareSender(hc *http.Client, base string, payload []byte) func() error {
	u := base + "/api/hubs/chat/:send?api-version=" + APIVersion
	key := []byte(testKey)
	return func() error {
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		now := time.Now()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, restClaims{Aud: u, Exp: now.Add(restTokenLifetime).Unix(), Iat: now.Unix()}).SignedString(key)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// BenchmarkSendToAll sends JSON messages through the client ("sdk") and
// through the bare loop ("bare"), one or 32 in flight, for each payload
// size. The sub-benchmarks interleave, so -count runs alternate them.
func BenchmarkSendToAll(b *testing.B) {
	ctx := context.Background()
	for _, size := range payloadSizes {
		payload := jsonPayload(size.n)
		for _, senders := range []int{1, 32} {
			b.Run(fmt.Sprintf("size=%s/inflight=%d/impl=sdk", size.name, senders), func(b *testing.B) {
				srv := sink(b)
				c, err := NewClientFromConnectionString("Endpoint="+srv.URL+";AccessKey="+testKey, "chat", WithHTTPClient(benchHTTPClient()))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				inFlight(b, senders, func() error { return c.SendToAll(ctx, RawJSON(payload), nil) })
			})
			b.Run(fmt.Sprintf("size=%s/inflight=%d/impl=bare", size.name, senders), func(b *testing.B) {
				srv := sink(b)
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				inFlight(b, senders, bareSender(benchHTTPClient(), srv.URL, payload))
			})
		}
	}
}

// BenchmarkSendToAllDefaultClient sends with the client's default
// *http.Client (no WithHTTPClient), 32 in flight, to show what a user who
// passes no option gets.
func BenchmarkSendToAllDefaultClient(b *testing.B) {
	srv := sink(b)
	c, err := NewClientFromConnectionString("Endpoint="+srv.URL+";AccessKey="+testKey, "chat")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	payload := jsonPayload(100)
	b.ReportAllocs()
	inFlight(b, 32, func() error { return c.SendToAll(ctx, RawJSON(payload), nil) })
}

// BenchmarkBarePOSTWithJWT is the sequential 100-byte limit on its own, kept
// for comparison with earlier figures.
func BenchmarkBarePOSTWithJWT(b *testing.B) {
	srv := sink(b)
	b.ReportAllocs()
	inFlight(b, 1, bareSender(benchHTTPClient(), srv.URL, jsonPayload(100)))
}

// clientTokenClaims are the claims of a client access token as a struct:
// the fastest way to sign them with golang-jwt, the limit for minting.
type clientTokenClaims struct {
	Aud  string   `json:"aud"`
	Iat  int64    `json:"iat"`
	Exp  int64    `json:"exp"`
	Sub  string   `json:"sub,omitempty"`
	Role []string `json:"role,omitempty"`
}

func (c clientTokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}
func (c clientTokenClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Iat, 0)), nil
}
func (clientTokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (clientTokenClaims) GetIssuer() (string, error)              { return "", nil }
func (c clientTokenClaims) GetSubject() (string, error)           { return c.Sub, nil }
func (c clientTokenClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Aud}, nil
}

// BenchmarkClientAccessToken mints client access tokens (user id and one
// role) with the client ("sdk") and with golang-jwt alone ("bare").
func BenchmarkClientAccessToken(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=sdk", func(b *testing.B) {
		c, err := NewClientFromConnectionString("Endpoint=http://localhost:8080;AccessKey="+testKey, "chat")
		if err != nil {
			b.Fatal(err)
		}
		opts := &TokenOptions{UserID: "user1", Roles: []string{"webpubsub.joinLeaveGroup"}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.ClientAccessToken(ctx, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=bare", func(b *testing.B) {
		key := []byte(testKey)
		aud := "http://localhost:8080/client/hubs/chat"
		b.ReportAllocs()
		for b.Loop() {
			now := time.Now()
			_, err := jwt.NewWithClaims(jwt.SigningMethodHS256, clientTokenClaims{
				Aud: aud, Iat: now.Unix(), Exp: now.Add(time.Hour).Unix(),
				Sub: "user1", Role: []string{"webpubsub.joinLeaveGroup"},
			}).SignedString(key)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// acceptAll is a transport that answers 202 without any I/O, to measure
// what the client itself costs per send.
type acceptAll struct{}

func (acceptAll) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusAccepted, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

// BenchmarkSendToAllNoNetwork is BenchmarkSendToAll's 100-byte cell with a
// transport that does no I/O: the client's own CPU and allocations per
// send ("sdk") against the bare loop's ("bare").
func BenchmarkSendToAllNoNetwork(b *testing.B) {
	ctx := context.Background()
	payload := jsonPayload(100)
	hc := &http.Client{Transport: acceptAll{}}
	b.Run("impl=sdk", func(b *testing.B) {
		c, err := NewClientFromConnectionString("Endpoint=http://127.0.0.1:8080;AccessKey="+testKey, "chat", WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		inFlight(b, 1, func() error { return c.SendToAll(ctx, RawJSON(payload), nil) })
	})
	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		inFlight(b, 1, bareSender(hc, "http://127.0.0.1:8080", payload))
	})
	// Tracing on: OpenTelemetry through azotel, every span sampled and
	// ended, none exported.
	b.Run("impl=sdk-tracing", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		defer func() { _ = tp.Shutdown(context.Background()) }()
		c, err := NewClientFromConnectionString("Endpoint=http://127.0.0.1:8080;AccessKey="+testKey, "chat", WithHTTPClient(hc),
			WithTracingProvider(azotel.NewTracingProvider(tp, nil)))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		inFlight(b, 1, func() error { return c.SendToAll(ctx, RawJSON(payload), nil) })
	})
}

// azcoreSender sends the same request through azcore's runtime.Pipeline
// (its default policies: telemetry, retry, logging, request id, body
// download...) with one JWT policy per try: what this SDK would cost if it
// were built on azcore's pipeline instead of its own.
func azcoreSender(hc policy.Transporter, base string, payload []byte) func() error {
	u := base + "/api/hubs/chat/:send?api-version=" + APIVersion
	pl := azruntime.NewPipeline("webpubsub", SDKVersion, azruntime.PipelineOptions{PerRetry: []policy.Policy{jwtPolicy{key: []byte(testKey)}}},
		&policy.ClientOptions{Transport: hc})
	ctx := context.Background()
	return func() error {
		req, err := azruntime.NewRequest(ctx, http.MethodPost, u)
		if err != nil {
			return err
		}
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(payload)), "application/json"); err != nil {
			return err
		}
		resp, err := pl.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// jwtPolicy signs each try with one HS256 JWT, as the bare loop does.
type jwtPolicy struct{ key []byte }

func (p jwtPolicy) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, restClaims{Aud: raw.URL.String(), Exp: now.Add(restTokenLifetime).Unix(), Iat: now.Unix()}).SignedString(p.key)
	if err != nil {
		return nil, err
	}
	raw.Header.Set("Authorization", "Bearer "+tok)
	return req.Next()
}

// BenchmarkSendToAllPipelines compares, for 100-byte sends one and 32 in
// flight, this SDK ("sdk") with the same send through azcore's pipeline
// ("azcore") and the bare loop ("bare"), each with its own HTTP client of
// the same settings; and, with no network at all, their allocations.
func BenchmarkSendToAllPipelines(b *testing.B) {
	ctx := context.Background()
	payload := jsonPayload(100)
	for _, senders := range []int{1, 32} {
		b.Run(fmt.Sprintf("inflight=%d/impl=sdk", senders), func(b *testing.B) {
			srv := sink(b)
			c, err := NewClientFromConnectionString("Endpoint="+srv.URL+";AccessKey="+testKey, "chat", WithHTTPClient(benchHTTPClient()))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			inFlight(b, senders, func() error { return c.SendToAll(ctx, RawJSON(payload), nil) })
		})
		b.Run(fmt.Sprintf("inflight=%d/impl=azcore", senders), func(b *testing.B) {
			srv := sink(b)
			b.ReportAllocs()
			inFlight(b, senders, azcoreSender(benchHTTPClient(), srv.URL, payload))
		})
		b.Run(fmt.Sprintf("inflight=%d/impl=bare", senders), func(b *testing.B) {
			srv := sink(b)
			b.ReportAllocs()
			inFlight(b, senders, bareSender(benchHTTPClient(), srv.URL, payload))
		})
	}
	b.Run("nonetwork/impl=azcore", func(b *testing.B) {
		b.ReportAllocs()
		inFlight(b, 1, azcoreSender(&http.Client{Transport: acceptAll{}}, "http://127.0.0.1:8080", payload))
	})
}
