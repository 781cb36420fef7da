// Command compare measures the Go SDK's REST sends and token minting side
// by side with their limit (a bare net/http POST with one HS256 JWT; bare
// golang-jwt for tokens) and with the official JavaScript SDK
// @azure/web-pubsub (bench/js), in one run, and prints the table with the
// ratios. `make bench-compare` runs it; docs/PERFORMANCE.md explains the
// method and holds the figures.
//
// The sink every sender talks to is a raw net/http server (202, body
// discarded) in a child process of this program, so the three clients face
// the same server over loopback and the Go figures (including allocations,
// read from runtime.MemStats around each window) are the client's alone.
//
// Each round runs every (size, in-flight, implementation) cell once, the
// implementations in a rotated order; the table shows the median over the
// rounds. Nothing here asserts a timing.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel"
	"github.com/golang-jwt/jwt/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/webpubsub-go/sdk/bench/internal/proc"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// accessKey signs every request; the sink does not check it.
const accessKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh"

const hub = "chat"

type config struct {
	rounds      int
	window      time.Duration
	warmup      time.Duration
	sizes       []int
	sweepSizes  []int
	sweepRounds int
	inflight    []int
	jsDir       string
	node        string
	raw         string
	sinkProcs   int
	tlsRounds   int
}

func main() {
	if len(os.Args) > 4 && os.Args[1] == "-tls-sink" {
		if procs, err := strconv.Atoi(os.Args[4]); err == nil && procs > 0 {
			runtime.GOMAXPROCS(procs)
		}
		if err := runTLSSink(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "TLS sink:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "-sink" {
		if procs, err := strconv.Atoi(os.Args[2]); err == nil && procs > 0 {
			runtime.GOMAXPROCS(procs)
		}
		if err := proc.Serve(http.HandlerFunc(sinkHandler)); err != nil {
			fmt.Fprintln(os.Stderr, "sink:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	var sizes, sweep, inflight string
	flag.IntVar(&cfg.rounds, "rounds", 7, "rounds of the main (100 B) cells; the table shows the median")
	flag.DurationVar(&cfg.window, "window", time.Second, "measured time of one cell")
	flag.DurationVar(&cfg.warmup, "warmup", 300*time.Millisecond, "unmeasured time before each cell")
	flag.StringVar(&sizes, "sizes", "100", "message sizes in bytes of the main cells (comma-separated)")
	flag.StringVar(&sweep, "sweep", "4096,65536,1048576", "message sizes of the size sweep; empty for none")
	flag.IntVar(&cfg.sweepRounds, "sweep-rounds", 3, "rounds of the size sweep")
	flag.StringVar(&inflight, "inflight", "1,32", "sends in flight (comma-separated)")
	flag.StringVar(&cfg.jsDir, "js", "bench/js", "directory of the JavaScript side (bench.mjs with node_modules installed); empty to skip it")
	flag.StringVar(&cfg.node, "node", "node", "the node executable")
	flag.IntVar(&cfg.sinkProcs, "sink-procs", 1, "GOMAXPROCS of the sink process; 0 for the Go default (one per core). One thread answers a sequential client without waking a second one per request, and leaves the other core to the client")
	flag.IntVar(&cfg.tlsRounds, "tls-rounds", 5, "rounds of the TLS section (100 B); 0 skips it")
	flag.StringVar(&cfg.raw, "raw", "", "also write every measurement to this file in Go benchmark format (for benchstat)")
	flag.Parse()
	var err error
	if cfg.sizes, err = ints(sizes); err == nil {
		if cfg.sweepSizes, err = ints(sweep); err == nil {
			cfg.inflight, err = ints(inflight)
		}
	}
	if err == nil && cfg.sinkProcs < 0 {
		err = errors.New("-sink-procs must be >= 0 (0 for the Go default)")
	}
	if err == nil && cfg.tlsRounds < 0 {
		err = errors.New("-tls-rounds must be >= 0")
	}
	if err == nil && (cfg.rounds < 1 || cfg.sweepRounds < 1 || cfg.window <= 0 || len(cfg.sizes) == 0 || len(cfg.inflight) == 0) {
		err = errors.New("-rounds and -sweep-rounds must be >= 1, -window > 0, -sizes and -inflight non-empty")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer list", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func sinkHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusAccepted)
}

// result is one measured cell.
type result struct {
	ops       int64
	elapsed   time.Duration
	allocs    float64 // per op; -1 when not measured (JavaScript)
	bytes     float64 // per op
	errors    int64
	firstErr  string
	available bool
}

func (r result) perSec() float64 { return float64(r.ops) / r.elapsed.Seconds() }

// impl is one implementation under test.
type impl struct {
	name string
	send func(size, inflight int) (result, error)
	mint func() (result, error)
}

func run(cfg config) error {
	// The TLS sinks' certificate, trusted by this process's default roots
	// (SSL_CERT_FILE is read at the first TLS handshake), so the SDK with
	// no options can be measured over TLS.
	dir, err := os.MkdirTemp("", "bench-compare-tls")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pool, err := makeCert(dir)
	if err != nil {
		return fmt.Errorf("making the TLS certificate: %w", err)
	}
	if err := os.Setenv("SSL_CERT_FILE", filepath.Join(dir, "cert.pem")); err != nil {
		return err
	}

	sink, err := proc.Start("-sink", strconv.Itoa(cfg.sinkProcs))
	if err != nil {
		return err
	}
	defer sink.Stop()

	js, jsNote := jsRunner(cfg, sink.URL)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample())) // spans made and ended, none exported
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracing := webpubsub.WithTracingProvider(azotel.NewTracingProvider(tp, nil))
	impls := []impl{
		{name: "sdk", send: func(size, n int) (result, error) { return goSend(cfg, sdkSender(sink.URL, size), n) }, mint: func() (result, error) { return goMint(cfg, sdkMinter()) }},
		{name: "bare", send: func(size, n int) (result, error) { return goSend(cfg, bareSender(sink.URL, size), n) }, mint: func() (result, error) { return goMint(cfg, bareMinter()) }},
		{name: "sdk-default", send: func(size, n int) (result, error) { return goSend(cfg, sdkDefaultSender(sink.URL, size, nil), n) }},
		{name: "sdk-trace", send: func(size, n int) (result, error) { return goSend(cfg, sdkDefaultSender(sink.URL, size, tracing), n) }},
	}
	if js != nil {
		impls = append(impls, impl{name: "js", send: js.send, mint: js.mint})
	}

	env := environment(cfg)
	fmt.Println(env)
	if jsNote != "" {
		fmt.Println("NOTE:", jsNote)
	}
	fmt.Println()

	type key struct {
		size, inflight int
		impl           string
	}
	results := map[key][]result{}
	tokens := map[string][]result{}
	var raw bytes.Buffer
	record := func(name string, r result) {
		if r.ops > 0 {
			fmt.Fprintf(&raw, "Benchmark%s 1 %.0f ns/op", name, float64(r.elapsed.Nanoseconds())/float64(r.ops))
			if r.allocs >= 0 {
				fmt.Fprintf(&raw, " %.0f B/op %.1f allocs/op", r.bytes, r.allocs)
			}
			raw.WriteString("\n")
		}
	}
	cell := func(round, size, n int) error {
		for i := range impls {
			im := impls[(i+round)%len(impls)] // rotate the order each round
			r, err := im.send(size, n)
			if err != nil {
				return fmt.Errorf("%s send size=%d inflight=%d: %w", im.name, size, n, err)
			}
			if r.errors > 0 {
				return fmt.Errorf("%s send size=%d inflight=%d: %d failed sends, the first: %s", im.name, size, n, r.errors, r.firstErr)
			}
			results[key{size, n, im.name}] = append(results[key{size, n, im.name}], r)
			record(fmt.Sprintf("SendToAll/size=%s/inflight=%d/impl=%s", sizeName(size), n, im.name), r)
			fmt.Fprintf(os.Stderr, "  round %d  size=%-6s inflight=%-3d %-5s %10.0f sends/s\n", round+1, sizeName(size), n, im.name, r.perSec())
		}
		return nil
	}
	start := time.Now()
	for round := range cfg.rounds {
		for _, size := range cfg.sizes {
			for _, n := range cfg.inflight {
				if err := cell(round, size, n); err != nil {
					return err
				}
			}
		}
		for i := range impls {
			im := impls[(i+round)%len(impls)]
			if im.mint == nil {
				continue
			}
			r, err := im.mint()
			if err != nil {
				return fmt.Errorf("%s token: %w", im.name, err)
			}
			tokens[im.name] = append(tokens[im.name], r)
			record("ClientAccessToken/impl="+im.name, r)
			fmt.Fprintf(os.Stderr, "  round %d  token %-5s %10.0f tokens/s\n", round+1, im.name, r.perSec())
		}
	}
	for round := range cfg.sweepRounds {
		for _, size := range cfg.sweepSizes {
			for _, n := range cfg.inflight {
				if err := cell(round, size, n); err != nil {
					return err
				}
			}
		}
	}
	fmt.Fprintf(os.Stderr, "measured in %v\n", time.Since(start).Round(time.Second))

	// The table.
	has := func(name string) bool { return slices.ContainsFunc(impls, func(i impl) bool { return i.name == name }) }
	fmt.Printf("SendToAll, JSON body, sends per second (median of %d rounds; sweep sizes: %d rounds).\n", cfg.rounds, cfg.sweepRounds)
	fmt.Println("Ratios are the median of the per-round ratios: each round measures both sides within seconds of each other.")
	fmt.Printf("%-7s %-8s %10s %10s %10s %10s %10s   %-22s %-22s %s\n", "size", "inflight", "sdk", "bare", "js", "sdk/bare", "sdk/js", "allocs/op sdk|bare", "B/op sdk|bare", "allocs sdk/bare")
	all := append(slices.Clone(cfg.sizes), cfg.sweepSizes...)
	for _, size := range all {
		for _, n := range cfg.inflight {
			s, b := median(results[key{size, n, "sdk"}]), median(results[key{size, n, "bare"}])
			jsCol, jsRatio := "-", "-"
			if has("js") {
				j := median(results[key{size, n, "js"}])
				jsCol, jsRatio = fmt.Sprintf("%.0f", j.perSec()), fmt.Sprintf("%.1fx", s.perSec()/j.perSec())
			}
			if has("js") {
				jsRatio = fmt.Sprintf("%.1fx", pairedRatio(results[key{size, n, "sdk"}], results[key{size, n, "js"}]))
			}
			fmt.Printf("%-7s %-8d %10.0f %10.0f %10s %10s %10s   %-22s %-22s %.2fx\n", sizeName(size), n,
				s.perSec(), b.perSec(), jsCol, fmt.Sprintf("%.2fx", pairedRatio(results[key{size, n, "sdk"}], results[key{size, n, "bare"}])), jsRatio,
				fmt.Sprintf("%.1f | %.1f", s.allocs, b.allocs), fmt.Sprintf("%.0f | %.0f", s.bytes, b.bytes), s.allocs/b.allocs)
		}
	}
	fmt.Println()
	fmt.Println("Client access tokens minted per second (user id + one role; median of rounds)")
	st, bt := median(tokens["sdk"]), median(tokens["bare"])
	fmt.Printf("%10s %10s %10s %10s %10s   %-22s\n", "sdk", "bare-jwt", "js", "sdk/bare", "sdk/js", "allocs/op sdk|bare")
	jsCol, jsRatio := "-", "-"
	if has("js") {
		j := median(tokens["js"])
		jsCol, jsRatio = fmt.Sprintf("%.0f", j.perSec()), fmt.Sprintf("%.0fx", st.perSec()/j.perSec())
	}
	if has("js") {
		jsRatio = fmt.Sprintf("%.0fx", pairedRatio(tokens["sdk"], tokens["js"]))
	}
	fmt.Printf("%10.0f %10.0f %10s %10s %10s   %-22s\n", st.perSec(), bt.perSec(), jsCol, fmt.Sprintf("%.2fx", pairedRatio(tokens["sdk"], tokens["bare"])), jsRatio, fmt.Sprintf("%.1f | %.1f", st.allocs, bt.allocs))
	fmt.Println()
	fmt.Println("The SDK with no options (sdk-default: the shared default transport) and with OpenTelemetry tracing on (sdk-trace: sdk-default")
	fmt.Println("plus WithTracingProvider(azotel), every span sampled and ended, none exported), against the same bare loop; paired ratios.")
	fmt.Printf("%-7s %-8s %12s %14s %20s %10s %14s %20s\n", "size", "inflight", "sdk-default", "default/bare", "allocs default/bare", "sdk-trace", "trace/default", "allocs trace|default")
	for _, size := range all {
		for _, n := range cfg.inflight {
			d, b, tr := results[key{size, n, "sdk-default"}], results[key{size, n, "bare"}], results[key{size, n, "sdk-trace"}]
			md, mb, mt := median(d), median(b), median(tr)
			fmt.Printf("%-7s %-8d %12.0f %14s %20s %10.0f %14s %20s\n", sizeName(size), n, md.perSec(), fmt.Sprintf("%.2fx", pairedRatio(d, b)),
				fmt.Sprintf("%.1f/%.1f = %.2fx", md.allocs, mb.allocs, md.allocs/mb.allocs), mt.perSec(), fmt.Sprintf("%.2fx", pairedRatio(tr, d)),
				fmt.Sprintf("%.1f | %.1f", mt.allocs, md.allocs))
		}
	}
	if cfg.tlsRounds > 0 {
		if err := runTLS(cfg, dir, pool, js); err != nil {
			return err
		}
	}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("\nload average at the end: %s", la)
	}
	if cfg.raw != "" {
		hdr := fmt.Sprintf("goos: %s\ngoarch: %s\npkg: github.com/webpubsub-go/sdk/bench/cmd/compare\n", runtime.GOOS, runtime.GOARCH)
		if err := os.WriteFile(cfg.raw, append([]byte(hdr), raw.Bytes()...), 0o644); err != nil {
			return err
		}
		fmt.Printf("\nraw measurements (benchstat format): %s\n", cfg.raw)
	}
	return nil
}

// pairedRatio is the median over rounds of a[i]/b[i]: cells of one round
// ran seconds apart, so this cancels slow drifts of the machine's load.
func pairedRatio(a, b []result) float64 {
	var rs []float64
	for i := range min(len(a), len(b)) {
		rs = append(rs, a[i].perSec()/b[i].perSec())
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	if len(rs)%2 == 0 {
		return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
	}
	return rs[len(rs)/2]
}

func median(rs []result) result {
	if len(rs) == 0 {
		return result{elapsed: time.Second}
	}
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch x, y := a.perSec(), b.perSec(); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// jsonPayload returns {"n":12345,"p":"xxx…"} of exactly n bytes, the same
// JSON bench/js/bench.mjs sends.
func jsonPayload(n int) []byte {
	head := `{"n":12345,"p":"`
	return []byte(head + strings.Repeat("x", max(n-len(head)-2, 0)) + `"}`)
}

// httpClient keeps an idle connection for every sender in flight; each
// implementation gets its own.
func httpClient() *http.Client {
	tr := wire.HTTPTransport()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}

func sdkSender(base string, size int) func(context.Context) error {
	c, err := webpubsub.NewClientFromConnectionString("Endpoint="+base+";AccessKey="+accessKey, hub, webpubsub.WithHTTPClient(httpClient()))
	if err != nil {
		panic(err) // a constant, valid connection string
	}
	payload := jsonPayload(size)
	return func(ctx context.Context) error { return c.SendToAll(ctx, webpubsub.RawJSON(payload), nil) }
}

// restClaims are the claims of a REST JWT.
type restClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
}

func (c restClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}
func (c restClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Iat, 0)), nil
}
func (restClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (restClaims) GetIssuer() (string, error)              { return "", nil }
func (restClaims) GetSubject() (string, error)             { return "", nil }
func (c restClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Aud}, nil
}

// sdkDefaultSender is the SDK as a user who passes no option gets it;
// extra is one option (tracing) or nil.
func sdkDefaultSender(base string, size int, extra webpubsub.Option) func(context.Context) error {
	c, err := webpubsub.NewClientFromConnectionString("Endpoint="+base+";AccessKey="+accessKey, hub, extra)
	if err != nil {
		panic(err) // a constant, valid connection string
	}
	payload := jsonPayload(size)
	return func(ctx context.Context) error { return c.SendToAll(ctx, webpubsub.RawJSON(payload), nil) }
}

// bareSender is the limit: the same POST with one HS256 JWT, nothing else.
func bareSender(base string, size int) func(context.Context) error {
	return bareSenderWith(httpClient(), base, size)
}

// bareSenderWith is bareSender over hc.
func bareSenderWith(hc *http.Client, base string, size int) func(context.Context) error {
	u := base + "/api/hubs/" + hub + "/:send?" + wire.QueryAPIVersion + "=" + wire.APIVersion
	key := []byte(accessKey)
	payload := jsonPayload(size)
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		now := time.Now()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, restClaims{Aud: u, Exp: now.Add(5 * time.Minute).Unix(), Iat: now.Unix()}).SignedString(key)
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

// goSend runs send from n goroutines for warmup + window and measures the
// window: sends completed, and the process's allocations per send.
func goSend(cfg config, send func(context.Context) error, n int) (result, error) {
	ctx := context.Background()
	var phase atomic.Int32 // 0 warmup, 1 measuring, 2 stop
	var ops, errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for phase.Load() != 2 {
				if err := send(ctx); err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				if phase.Load() == 1 { // completed inside the window
					ops.Add(1)
				}
			}
		})
	}
	time.Sleep(cfg.warmup)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	phase.Store(1)
	time.Sleep(cfg.window)
	phase.Store(2)
	elapsed := time.Since(t0)
	got := ops.Load()
	runtime.ReadMemStats(&after)
	wg.Wait()
	r := result{ops: got, elapsed: elapsed, errors: errs.Load(), available: true}
	if s, ok := firstErr.Load().(string); ok {
		r.firstErr = s
	}
	if got > 0 {
		r.allocs = float64(after.Mallocs-before.Mallocs) / float64(got)
		r.bytes = float64(after.TotalAlloc-before.TotalAlloc) / float64(got)
	}
	return r, nil
}

func sdkMinter() func() error {
	c, err := webpubsub.NewClientFromConnectionString("Endpoint=http://127.0.0.1:8080;AccessKey="+accessKey, hub)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	opts := &webpubsub.TokenOptions{UserID: "user1", Roles: []string{"webpubsub.joinLeaveGroup"}}
	return func() error { _, err := c.ClientAccessToken(ctx, opts); return err }
}

// tokenClaims are a client access token's claims as a struct, the fastest
// way to sign them with golang-jwt.
type tokenClaims struct {
	Aud  string   `json:"aud"`
	Iat  int64    `json:"iat"`
	Exp  int64    `json:"exp"`
	Sub  string   `json:"sub,omitempty"`
	Role []string `json:"role,omitempty"`
}

func (c tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}
func (c tokenClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Iat, 0)), nil
}
func (tokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (tokenClaims) GetIssuer() (string, error)              { return "", nil }
func (c tokenClaims) GetSubject() (string, error)           { return c.Sub, nil }
func (c tokenClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Aud}, nil
}

func bareMinter() func() error {
	key := []byte(accessKey)
	aud := "http://127.0.0.1:8080/client/hubs/" + hub
	roles := []string{"webpubsub.joinLeaveGroup"}
	return func() error {
		now := time.Now()
		_, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tokenClaims{Aud: aud, Iat: now.Unix(), Exp: now.Add(time.Hour).Unix(), Sub: "user1", Role: roles}).SignedString(key)
		return err
	}
}

// goMint mints tokens in a loop for warmup + window.
func goMint(cfg config, mint func() error) (result, error) {
	deadline := time.Now().Add(cfg.warmup)
	for time.Now().Before(deadline) {
		if err := mint(); err != nil {
			return result{}, err
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	var ops int64
	for time.Since(t0) < cfg.window {
		for range 64 {
			if err := mint(); err != nil {
				return result{}, err
			}
		}
		ops += 64
	}
	elapsed := time.Since(t0)
	runtime.ReadMemStats(&after)
	return result{ops: ops, elapsed: elapsed, available: true,
		allocs: float64(after.Mallocs-before.Mallocs) / float64(ops),
		bytes:  float64(after.TotalAlloc-before.TotalAlloc) / float64(ops)}, nil
}

// jsSide runs bench/js/bench.mjs, one node process per cell.
type jsSide struct {
	cfg  config
	sink string
	env  []string // nil: this process's environment
}

// jsRunner returns the JavaScript side, or nil and a note saying why it is
// skipped.
func jsRunner(cfg config, sink string) (*jsSide, string) {
	if cfg.jsDir == "" {
		return nil, "the JavaScript SDK column is skipped (-js is empty)"
	}
	if _, err := exec.LookPath(cfg.node); err != nil {
		return nil, fmt.Sprintf("the JavaScript SDK column is skipped: %s is not installed (install Node.js 18 or later to compare with @azure/web-pubsub)", cfg.node)
	}
	if _, err := os.Stat(filepath.Join(cfg.jsDir, "node_modules", "@azure", "web-pubsub")); err != nil {
		return nil, fmt.Sprintf("the JavaScript SDK column is skipped: %s has no node_modules (run `npm ci` there, or use `make bench-compare`, which does)", cfg.jsDir)
	}
	return &jsSide{cfg: cfg, sink: sink}, ""
}

func (j *jsSide) node(args ...string) (result, error) {
	secs := strconv.FormatFloat(j.cfg.window.Seconds(), 'f', 3, 64)
	warm := strconv.FormatFloat(j.cfg.warmup.Seconds(), 'f', 3, 64)
	args = append([]string{"bench.mjs", "--seconds", secs, "--warmup", warm, "--key", accessKey, "--hub", hub}, args...)
	cmd := exec.Command(j.cfg.node, args...)
	cmd.Dir = j.cfg.jsDir
	cmd.Env = j.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("node %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var line string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			line = sc.Text()
		}
	}
	var v struct {
		Ops        int64   `json:"ops"`
		Seconds    float64 `json:"seconds"`
		Errors     int64   `json:"errors"`
		FirstError string  `json:"firstError"`
	}
	if err := json.Unmarshal([]byte(line), &v); err != nil || v.Seconds <= 0 {
		return result{}, fmt.Errorf("node printed no result line: %q", out)
	}
	return result{ops: v.Ops, elapsed: time.Duration(v.Seconds * float64(time.Second)), allocs: -1, bytes: -1,
		errors: v.Errors, firstErr: v.FirstError, available: true}, nil
}

func (j *jsSide) send(size, inflight int) (result, error) {
	return j.node("--mode", "send", "--endpoint", j.sink, "--size", strconv.Itoa(size), "--inflight", strconv.Itoa(inflight))
}

func (j *jsSide) mint() (result, error) { return j.node("--mode", "token") }

// environment describes the machine for the report.
func environment(cfg config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "go %s, GOMAXPROCS %d, NumCPU %d", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	if cfg.jsDir != "" {
		if out, err := exec.Command(cfg.node, "--version").Output(); err == nil {
			fmt.Fprintf(&b, ", node %s", strings.TrimSpace(string(out)))
		}
	}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(la))
		if len(f) >= 3 {
			fmt.Fprintf(&b, ", load %s %s %s", f[0], f[1], f[2])
		}
	}
	procs := "GOMAXPROCS default"
	if cfg.sinkProcs > 0 {
		procs = fmt.Sprintf("GOMAXPROCS %d", cfg.sinkProcs)
	}
	fmt.Fprintf(&b, "\nsink: raw net/http server in a child process on loopback (%s); %d round(s) of %v (after %v warm-up) per cell", procs, cfg.rounds, cfg.window, cfg.warmup)
	return b.String()
}
