package emulator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// These benchmarks measure the engine's fan-out and the WebSocket write
// path in one process. bench/cmd/emulatorload measures the same at scale
// with the emulator in a process of its own (docs/PERFORMANCE.md).

// benchClient is a WebSocket client that only counts data messages (and
// acknowledges them on the reliable protocol).
type benchClient struct {
	ws   *websocket.Conn
	got  atomic.Int64
	done chan struct{}
}

func dialBench(s *testServer, u, proto string) (*benchClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if _, _, err := ws.Read(ctx); err != nil { // the connected message
		_ = ws.CloseNow()
		return nil, fmt.Errorf("reading the connected message: %w", err)
	}
	c := &benchClient{ws: ws, done: make(chan struct{})}
	reliable := proto == wire.SubprotocolJSONReliable
	go func() {
		defer close(c.done)
		buf := make([]byte, 0, 1024)
		n := 0
		for {
			_, r, err := ws.Reader(context.Background())
			if err != nil {
				return
			}
			w := bytes.NewBuffer(buf[:0])
			if _, err := io.Copy(w, r); err != nil {
				return
			}
			buf = w.Bytes()
			c.got.Add(1)
			if n++; reliable && n%64 == 0 {
				i := bytes.LastIndex(buf, []byte(`"sequenceId":`))
				if i < 0 {
					continue
				}
				j := i + len(`"sequenceId":`)
				k := j
				for k < len(buf) && buf[k] >= '0' && buf[k] <= '9' {
					k++
				}
				ack := `{"type":"sequenceAck","sequenceId":` + string(buf[j:k]) + `}`
				if ws.Write(context.Background(), websocket.MessageText, []byte(ack)) != nil {
					return
				}
			}
		}
	}()
	s.t.Cleanup(func() { _ = ws.CloseNow(); <-c.done })
	return c, nil
}

// BenchmarkBroadcast sends one message to every connection of a hub and
// waits until every client has it: ns/op is the time of one whole
// broadcast, and deliveries/s the rate of single deliveries.
func BenchmarkBroadcast(b *testing.B) {
	for _, proto := range []string{wire.SubprotocolJSON, wire.SubprotocolJSONReliable} {
		name := "json"
		if proto == wire.SubprotocolJSONReliable {
			name = "reliable"
		}
		for _, n := range []int{100, 1000} {
			for _, size := range []int{100, 4 << 10} {
				b.Run(fmt.Sprintf("protocol=%s/conns=%d/size=%d", name, n, size), func(b *testing.B) {
					benchBroadcast(b, proto, n, size)
				})
			}
		}
	}
}

func benchBroadcast(b *testing.B, proto string, n, size int) {
	s := newTestServer(b)
	clients := make([]*benchClient, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range clients {
		u := s.clientURL("bench", clientOpts{})
		sem <- struct{}{}
		wg.Go(func() { defer func() { <-sem }(); clients[i], errs[i] = dialBench(s, u, proto) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	data := []byte(`{"p":"` + string(bytes.Repeat([]byte("x"), size-8)) + `"}`)
	b.SetBytes(int64(len(data) * n))
	b.ReportAllocs()
	sent := int64(0)
	start := time.Now()
	for b.Loop() {
		s.e.send("bench", scopeAll, "", target{}, &delivery{from: wire.FromServer, payload: Payload{DataType: wire.DataTypeJSON, Data: data}}, "")
		sent++
		deadline := time.Now().Add(10 * time.Second)
		for _, c := range clients {
			for c.got.Load() < sent {
				select {
				case <-c.done:
					b.Fatalf("a client was disconnected after %d of %d messages", c.got.Load(), sent)
				default:
				}
				if time.Now().After(deadline) {
					b.Fatalf("a client got %d of %d messages in 10s", c.got.Load(), sent)
				}
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
	b.ReportMetric(float64(sent)*float64(n)/time.Since(start).Seconds(), "deliveries/s")
}

// BenchmarkSendToAllREST is the REST path of a send with no connection
// to deliver to: authentication (one JWT check), routing, validation.
func BenchmarkSendToAllREST(b *testing.B) {
	s := newTestServer(b)
	body := []byte(`{"hello":"world","n":12345}`)
	b.ReportAllocs()
	for b.Loop() {
		resp, _ := s.call(http.MethodPost, hubPath("bench", "/:send"), nil, wire.ContentTypeJSON, body)
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkFrameFor encodes one delivery for a connection.
func BenchmarkFrameFor(b *testing.B) {
	data := []byte(`{"hello":"world","n":12345}`)
	for _, kind := range []protocolKind{protocolSimple, protocolJSON, protocolReliable} {
		b.Run("protocol="+kind.String(), func(b *testing.B) {
			d := &delivery{from: wire.FromGroup, group: "g", payload: Payload{DataType: wire.DataTypeJSON, Data: data}}
			b.ReportAllocs()
			var seq uint64
			for b.Loop() {
				if kind == protocolReliable {
					seq++
				}
				if f := d.frameFor(kind, seq); len(f.data) == 0 {
					b.Fatal("empty frame")
				}
			}
		})
	}
}
