// Command soak is a bounded soak test of the emulator and the SDK on
// loopback: many WebSocket clients (most on the reliable subprotocol) in a
// few groups, the SDK sending to the groups at a steady rate, and reliable
// clients dropped and reconnected at random. At the end it reports
// delivered/expected, duplicates, gaps, latency percentiles, memory before
// and after, and goroutines at the start and the end, and exits non-zero
// if anything was lost, duplicated or leaked.
//
// The clients are wsclient.Clients; a drop breaks a client's TCP
// connection under it, and wsclient recovers it.
//
//	go run ./bench/soak -duration 2m   (make soak)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/leakcheck"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

type config struct {
	duration  time.Duration
	clients   int
	groups    int
	rate      int     // sends per second
	reliable  float64 // share of clients on the reliable subprotocol
	dropEvery time.Duration
	drain     time.Duration
	// heapProfile, if set, receives a heap profile taken at the end.
	heapProfile string
}

func main() {
	var c config
	flag.DurationVar(&c.duration, "duration", 2*time.Minute, "how long the SDK sends")
	flag.IntVar(&c.clients, "clients", 1000, "WebSocket clients")
	flag.IntVar(&c.groups, "groups", 10, "groups the clients are spread over")
	flag.IntVar(&c.rate, "rate", 50, "sends per second through the SDK")
	flag.Float64Var(&c.reliable, "reliable", 0.7, "share of clients on the reliable subprotocol (the ones that are dropped)")
	flag.DurationVar(&c.dropEvery, "drop-every", 100*time.Millisecond, "drop one random reliable client this often")
	flag.DurationVar(&c.drain, "drain", 15*time.Second, "how long to wait for the last deliveries")
	flag.StringVar(&c.heapProfile, "heapprofile", "", "write a heap profile to this file at the end")
	flag.Parse()
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// histogram counts latencies in 50 µs buckets up to 2 s.
type histogram struct {
	buckets [40001]atomic.Uint64
	max     atomic.Int64
}

const bucketWidth = 50 * time.Microsecond

func (h *histogram) add(d time.Duration) {
	i := min(int(d/bucketWidth), len(h.buckets)-1)
	h.buckets[max(i, 0)].Add(1)
	for m := h.max.Load(); int64(d) > m && !h.max.CompareAndSwap(m, int64(d)); m = h.max.Load() {
	}
}

func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := uint64(q * float64(total))
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen > want {
			return time.Duration(i+1) * bucketWidth
		}
	}
	return time.Duration(h.max.Load())
}

// payload is what the SDK sends.
type payload struct {
	ID   uint64 `json:"id"`
	Sent int64  `json:"sent"` // UnixNano
}

// client is one WebSocket client of the soak.
type client struct {
	group    int
	reliable bool
	ws       *wsclient.Client
	dialer   *tcpDialer

	mu      sync.Mutex
	lastSeq uint64
	got     map[uint64]bool
	dups    int
	gaps    int
	ended   string // why the connection ended for good, "" while alive
}

// tcpDialer remembers a client's TCP connections so that the soak can
// break them.
type tcpDialer struct {
	mu   sync.Mutex
	conn net.Conn
}

func (d *tcpDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		d.mu.Lock()
		d.conn = c
		d.mu.Unlock()
	}
	return c, err
}

// drop resets the client's current TCP connection, as a network failure
// would; wsclient recovers it.
func (d *tcpDialer) drop() {
	d.mu.Lock()
	c := d.conn
	d.mu.Unlock()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
		_ = tc.Close()
	}
}

type stats struct {
	drops, lostConnections atomic.Int64
	hist                   histogram
}

func run(c config, out io.Writer) error {
	raiseFileLimit(uint64(4*c.clients + 1024))
	goroutinesBefore := runtime.NumGoroutine()
	before := leakcheck.Take()
	memBefore := heap()

	emu, err := emulator.New(emulator.WithRecoveryWindow(30 * time.Second))
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	addr, errc, err := emu.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		stop()
		return err
	}
	endpoint := "http://" + addr.String()
	sdk, err := webpubsub.NewClientFromConnectionString("Endpoint="+endpoint+";AccessKey="+emu.AccessKey()+";Version=1.0;", "soak")
	if err != nil {
		stop()
		return err
	}
	st := &stats{}
	clients := make([]*client, c.clients)
	start := time.Now()
	for i := range clients {
		g := i % c.groups
		tok, err := sdk.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: fmt.Sprintf("user-%d", i), Groups: []string{groupName(g)}})
		if err != nil {
			stop()
			return err
		}
		cl := &client{group: g, reliable: float64(i%100) < c.reliable*100, got: map[uint64]bool{}}
		if err := cl.start(ctx, tok.URL, st); err != nil {
			stop()
			return fmt.Errorf("client %d: %w", i, err)
		}
		clients[i] = cl
	}
	connectTime := time.Since(start)
	memConnected := heap()

	// Send at a steady rate through the SDK; drop reliable clients at random.
	sent := make([]atomic.Uint64, c.groups) // successful sends per group
	var sendErrors atomic.Int64
	var nextID atomic.Uint64
	sendCtx, stopSending := context.WithTimeout(ctx, c.duration)
	var senders sync.WaitGroup
	senders.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(c.rate))
		defer tick.Stop()
		var inflight sync.WaitGroup
		defer inflight.Wait()
		for {
			select {
			case <-sendCtx.Done():
				return
			case <-tick.C:
			}
			id := nextID.Add(1)
			g := int(id % uint64(c.groups))
			inflight.Go(func() {
				err := sdk.SendToGroup(context.Background(), groupName(g), webpubsub.JSON(payload{ID: id, Sent: time.Now().UnixNano()}), nil)
				if err != nil {
					sendErrors.Add(1)
					fmt.Fprintln(out, "send failed:", err)
					return
				}
				sent[g].Add(1)
			})
		}
	})
	senders.Go(func() {
		tick := time.NewTicker(c.dropEvery)
		defer tick.Stop()
		for {
			select {
			case <-sendCtx.Done():
				return
			case <-tick.C:
			}
			cl := clients[rand.IntN(len(clients))]
			if cl.reliable {
				st.drops.Add(1)
				cl.dialer.drop()
			}
		}
	})
	var peakHeap uint64
	senders.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sendCtx.Done():
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peakHeap = max(peakHeap, m.HeapAlloc)
			}
		}
	})
	senders.Wait()
	stopSending()

	// Wait for the last deliveries.
	expectedOf := func(cl *client) uint64 { return sent[cl.group].Load() }
	deadline := time.Now().Add(c.drain)
	for time.Now().Before(deadline) {
		done := true
		for _, cl := range clients {
			cl.mu.Lock()
			n, ended := uint64(len(cl.got)), cl.ended
			cl.mu.Unlock()
			if ended == "" && n < expectedOf(cl) {
				done = false
				break
			}
		}
		if done {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	var expected, delivered, lost, dups, gaps uint64
	ended := map[string]int{}
	var lostClients []string
	for i, cl := range clients {
		cl.mu.Lock()
		e, d := expectedOf(cl), uint64(len(cl.got))
		expected += e
		delivered += d
		dups += uint64(cl.dups)
		gaps += uint64(cl.gaps)
		if cl.ended != "" {
			ended[cl.ended]++
		} else if d < e {
			lost += e - d
			lostClients = append(lostClients, fmt.Sprintf("client %d: %d of %d", i, d, e))
		}
		cl.mu.Unlock()
	}

	// Shut everything down and look for leaks.
	for _, cl := range clients {
		cl.mu.Lock()
		if cl.ended == "" {
			cl.ended = "closed by the soak"
		}
		cl.mu.Unlock()
		cl.ws.Stop()
	}
	stop()
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(out, "server:", err)
	}
	clients = nil
	leaked := before.Leaked(5 * time.Second)
	memAfter := heap()
	if c.heapProfile != "" {
		if f, err := os.Create(c.heapProfile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			_ = f.Close()
		}
	}
	goroutinesAfter := runtime.NumGoroutine()

	var totalSent uint64
	for i := range sent {
		totalSent += sent[i].Load()
	}
	fmt.Fprintf(out, "soak: %d clients (%.0f%% reliable) in %d groups, connected in %v; SDK sends at %d/s for %v\n",
		c.clients, c.reliable*100, c.groups, connectTime.Round(time.Millisecond), c.rate, c.duration)
	fmt.Fprintf(out, "sends:        %d succeeded, %d failed\n", totalSent, sendErrors.Load())
	fmt.Fprintf(out, "deliveries:   %d of %d expected (%.4f%%), lost %d, duplicated %d, sequence gaps %d\n",
		delivered, expected, 100*float64(delivered)/float64(max(expected, 1)), lost, dups, gaps)
	fmt.Fprintf(out, "drops:        %d TCP connections of reliable clients reset, %d connections lost for good, connections ended: %v\n",
		st.drops.Load(), st.lostConnections.Load(), ended)
	fmt.Fprintf(out, "latency:      p50 %v, p99 %v, p99.9 %v, max %v (send call to client read)\n",
		st.hist.quantile(0.5), st.hist.quantile(0.99), st.hist.quantile(0.999), time.Duration(st.hist.max.Load()).Round(time.Microsecond))
	fmt.Fprintf(out, "memory:       heap %s before, %s with clients connected, %s peak while sending, %s after (GC'd)\n",
		mib(memBefore), mib(memConnected), mib(peakHeap), mib(memAfter))
	fmt.Fprintf(out, "goroutines:   %d at start, %d at end, %d leaked\n", goroutinesBefore, goroutinesAfter, len(leaked))
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(out, "machine:      %d CPUs, load average %s", runtime.NumCPU(), b)
	}
	for _, l := range lostClients[:min(len(lostClients), 10)] {
		fmt.Fprintln(out, "  lost:", l)
	}
	switch {
	case lost > 0 || dups > 0 || gaps > 0:
		return fmt.Errorf("%d lost, %d duplicated, %d gaps", lost, dups, gaps)
	case sendErrors.Load() > 0:
		return fmt.Errorf("%d sends failed", sendErrors.Load())
	case len(leaked) > 0:
		_ = leakcheck.Report(os.Stderr, leaked)
		return fmt.Errorf("%d goroutines leaked", len(leaked))
	case len(ended) > 0:
		return fmt.Errorf("connections ended: %v", ended)
	}
	return nil
}

func groupName(g int) string { return fmt.Sprintf("room-%d", g) }

// heap returns the live heap after two collections (the second empties
// sync.Pool victim caches, e.g. pooled WebSocket buffers).
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// start connects the client. Messages go to receive; a connection lost
// for good ends the client (the soak then fails).
func (cl *client) start(ctx context.Context, u string, st *stats) error {
	proto := wsclient.ProtocolJSON
	if cl.reliable {
		proto = wsclient.ProtocolReliableJSON
	}
	cl.dialer = &tcpDialer{}
	var err error
	cl.ws, err = wsclient.New(u, &wsclient.Options{
		Protocol:             proto,
		DisableAutoReconnect: true,
		HTTPClient:           &http.Client{Transport: &http.Transport{DialContext: cl.dialer.dial}},
		OnMessage:            func(m wsclient.Message) { cl.receive(m, st) },
		OnDisconnected: func(ev wsclient.DisconnectedEvent) {
			st.lostConnections.Add(1)
			cl.mu.Lock()
			if cl.ended == "" {
				cl.ended = fmt.Sprintf("lost (%s): %v", ev.Message, ev.Err)
			}
			cl.mu.Unlock()
		},
	})
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cl.ws.Start(dctx)
}

// receive records one message.
func (cl *client) receive(m wsclient.Message, st *stats) {
	now := time.Now()
	var p payload
	if err := json.Unmarshal(m.Bytes(), &p); err != nil {
		return
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.reliable {
		if m.SequenceID != cl.lastSeq+1 {
			cl.gaps++
		}
		cl.lastSeq = m.SequenceID
	}
	if cl.got[p.ID] {
		cl.dups++
		return
	}
	cl.got[p.ID] = true
	st.hist.add(now.Sub(time.Unix(0, p.Sent)))
}
