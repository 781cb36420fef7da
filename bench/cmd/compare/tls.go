package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/webpubsub-go/sdk/bench/internal/proc"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// The TLS section: two https sinks with a self-signed certificate made at
// start, one offering HTTP/2 and HTTP/1.1 (ALPN h2, http/1.1), one
// HTTP/1.1 only, as many proxies and gateways do. Each sink counts the
// requests by protocol and the TLS connections it accepted, and answers
// GET /stats with the counts since the last GET /stats, so the table can
// show what each client negotiated and how many handshakes it paid.

// tlsSinkStats are a TLS sink's counts since the previous GET /stats.
type tlsSinkStats struct {
	HTTP1 int64 `json:"http1"`
	HTTP2 int64 `json:"http2"`
	Conns int64 `json:"conns"`
}

// runTLSSink is the child process of one TLS sink: args are the directory
// with cert.pem and key.pem, "h2" or "h1", and GOMAXPROCS.
func runTLSSink(dir, mode string) error {
	var h1, h2, conns atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(tlsSinkStats{HTTP1: h1.Swap(0), HTTP2: h2.Swap(0), Conns: conns.Swap(0)})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Add(1)
		} else {
			h1.Add(1)
		}
		sinkHandler(w, r)
	})
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(mode == "h2")
	srv := &http.Server{Handler: mux, Protocols: &p, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}}
	return proc.ServeTLS(srv, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
}

// makeCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// localhost to dir and returns its pool.
func makeCert(dir string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "bench-compare sink"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool, nil
}

// tlsHTTPClient is the bare loop's client over TLS: a pool of HTTP/1.1
// connections (h2 false) or HTTP/2 when the sink offers it (h2 true).
func tlsHTTPClient(pool *x509.CertPool, h2 bool) *http.Client {
	tr := wire.HTTPTransport()
	tr.MaxIdleConnsPerHost = 64
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(h2)
	tr.Protocols = &p
	tr.ForceAttemptHTTP2 = h2
	return &http.Client{Transport: tr}
}

// sinkStats reads and resets a TLS sink's counts.
func sinkStats(hc *http.Client, base string) (tlsSinkStats, error) {
	var st tlsSinkStats
	resp, err := hc.Get(base + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// protoOf describes the protocol mix and the handshakes per 1,000 requests.
func (s tlsSinkStats) String() string {
	n := s.HTTP1 + s.HTTP2
	if n == 0 {
		return "-"
	}
	proto := "h1"
	switch {
	case s.HTTP2 == n:
		proto = "h2"
	case s.HTTP2 > 0:
		proto = fmt.Sprintf("h1 %d%%/h2", 100*s.HTTP1/n)
	}
	return fmt.Sprintf("%s, %.1f conns/1k", proto, 1000*float64(s.Conns)/float64(n))
}

// runTLS measures the TLS section and prints its table. sdk must be the
// default client (no options); it trusts the certificate through
// SSL_CERT_FILE, which run set before any TLS use.
func runTLS(cfg config, dir string, pool *x509.CertPool, js *jsSide) error {
	sinks := []struct{ name, mode string }{{"h2+http/1.1", "h2"}, {"http/1.1 only", "h1"}}
	statsClient := tlsHTTPClient(pool, false)
	type key struct {
		sink     string
		inflight int
		impl     string
	}
	results := map[key][]result{}
	protos := map[key]tlsSinkStats{}
	for _, sk := range sinks {
		child, err := proc.Start("-tls-sink", dir, sk.mode, fmt.Sprint(cfg.sinkProcs))
		if err != nil {
			return err
		}
		impls := []impl{
			{name: "sdk", send: func(size, n int) (result, error) { return goSend(cfg, sdkDefaultSender(child.URL, size, nil), n) }},
			{name: "bare-h1", send: func(size, n int) (result, error) {
				return goSend(cfg, bareSenderWith(tlsHTTPClient(pool, false), child.URL, size), n)
			}},
		}
		if sk.mode == "h2" {
			impls = append(impls, impl{name: "bare-h2", send: func(size, n int) (result, error) {
				return goSend(cfg, bareSenderWith(tlsHTTPClient(pool, true), child.URL, size), n)
			}})
		}
		if js != nil {
			jsTLS := *js
			jsTLS.sink = child.URL
			jsTLS.env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+filepath.Join(dir, "cert.pem"))
			impls = append(impls, impl{name: "js", send: jsTLS.send})
		}
		_, _ = sinkStats(statsClient, child.URL)
		for round := range cfg.tlsRounds {
			for _, n := range cfg.inflight {
				for i := range impls {
					im := impls[(i+round)%len(impls)]
					r, err := im.send(100, n)
					if err == nil && r.errors > 0 {
						err = fmt.Errorf("%d failed sends, the first: %s", r.errors, r.firstErr)
					}
					if err != nil {
						child.Stop()
						return fmt.Errorf("TLS %s %s inflight=%d: %w", sk.name, im.name, n, err)
					}
					st, err := sinkStats(statsClient, child.URL)
					if err != nil {
						child.Stop()
						return fmt.Errorf("TLS %s stats: %w", sk.name, err)
					}
					k := key{sk.name, n, im.name}
					results[k] = append(results[k], r)
					protos[k] = st
					fmt.Fprintf(os.Stderr, "  TLS round %d  %-13s inflight=%-3d %-7s %10.0f sends/s  %s\n", round+1, sk.name, n, im.name, r.perSec(), st)
				}
			}
		}
		child.Stop()
	}

	fmt.Println()
	fmt.Printf("TLS: SendToAll of 100 B to an https sink (self-signed certificate), sends per second, median of %d rounds.\n", cfg.tlsRounds)
	fmt.Println("sdk = the SDK with no options; bare-h1 = the bare loop over a pool of HTTP/1.1 connections (64 idle per host);")
	fmt.Println("bare-h2 = the bare loop over HTTP/2; fastest bare = the faster bare loop of each round; conns/1k = TLS handshakes per 1,000 requests.")
	fmt.Printf("%-14s %-8s %9s %9s %9s %9s %12s %8s   %s\n", "sink", "inflight", "sdk", "bare-h1", "bare-h2", "js", "sdk/fastest", "sdk/js", "negotiated: sdk | bare-h1 | bare-h2 | js")
	for _, sk := range sinks {
		for _, n := range cfg.inflight {
			get := func(name string) []result { return results[key{sk.name, n, name}] }
			col := func(name string) string {
				if rs := get(name); len(rs) > 0 {
					return fmt.Sprintf("%.0f", median(rs).perSec())
				}
				return "-"
			}
			// The fastest bare loop of each round.
			var fastest []result
			for i, r := range get("bare-h1") {
				if h2 := get("bare-h2"); i < len(h2) && h2[i].perSec() > r.perSec() {
					r = h2[i]
				}
				fastest = append(fastest, r)
			}
			jsRatio := "-"
			if len(get("js")) > 0 {
				jsRatio = fmt.Sprintf("%.1fx", pairedRatio(get("sdk"), get("js")))
			}
			var neg []string
			for _, name := range []string{"sdk", "bare-h1", "bare-h2", "js"} {
				if st, ok := protos[key{sk.name, n, name}]; ok {
					neg = append(neg, st.String())
				} else {
					neg = append(neg, "-")
				}
			}
			fmt.Printf("%-14s %-8d %9s %9s %9s %9s %12s %8s   %s\n", sk.name, n, col("sdk"), col("bare-h1"), col("bare-h2"), col("js"),
				fmt.Sprintf("%.2fx", pairedRatio(get("sdk"), fastest)), jsRatio, strings.Join(neg, " | "))
		}
	}
	return nil
}
