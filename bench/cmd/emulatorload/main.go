// Command emulatorload measures the local Web PubSub service
// (internal/emulator) at scale, on loopback: memory per idle WebSocket
// connection, broadcast throughput and latency by connection count and by
// message size, sends to many small groups, and the reliable protocol's
// cost over the plain json.webpubsub.azure.v1 one. `make bench-emulator`
// runs it; docs/PERFORMANCE.md explains the method and holds the figures.
//
// The emulator runs in a child process of this program (so its RSS and
// runtime.MemStats are its own); this process is the load generator: it
// opens the WebSocket clients, sends over REST with the Go SDK and checks
// that every client received every message exactly once. Latency is from
// the start of the REST call to the client's receipt, both clocks being
// this process's (the send time travels in the message).
//
// Everything is bounded: each scenario sends a fixed number of messages
// and gives up after -timeout. Nothing here asserts a timing.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/bench/internal/proc"
	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

type config struct {
	levels      []int
	sizes       []int
	sizeConns   int
	groups      int
	groupSize   int
	deliveries  int
	maxBytes    int64
	timeout     time.Duration
	dialWorkers int
	inflight    int
	window      int
	hold        time.Duration
	cpuProfile  string
	emuProcs    int
	procs       int
	raw         bool // the raw reader (rawws.go) instead of coder/websocket's
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-serve" {
		if procs, err := strconv.Atoi(os.Args[2]); err == nil && procs > 0 {
			runtime.GOMAXPROCS(procs)
		}
		if err := serve(); err != nil {
			fmt.Fprintln(os.Stderr, "emulator:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	var levels, sizes string
	flag.StringVar(&levels, "conns", "100,1000,10000", "connection counts: idle memory and a 100-byte broadcast at each")
	flag.StringVar(&sizes, "sizes", "100,4096,65536,1048576", "message sizes of the broadcast size sweep")
	flag.IntVar(&cfg.sizeConns, "size-conns", 1000, "connections of the size sweep, the group test and the reliable test")
	flag.IntVar(&cfg.groups, "groups", 100, "groups of the group test")
	flag.IntVar(&cfg.deliveries, "deliveries", 200000, "deliveries per broadcast measurement (messages = deliveries / connections)")
	flag.Int64Var(&cfg.maxBytes, "max-bytes", 512<<20, "bytes delivered per measurement at most (bounds the large-message cells)")
	flag.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "give up a measurement after this long")
	flag.IntVar(&cfg.dialWorkers, "dial-workers", 64, "WebSocket handshakes in flight while connecting")
	flag.IntVar(&cfg.inflight, "inflight", 8, "REST sends in flight")
	flag.IntVar(&cfg.emuProcs, "emulator-procs", 0, "GOMAXPROCS of the emulator process; 0 for the Go default (one per core)")
	flag.IntVar(&cfg.procs, "procs", 0, "GOMAXPROCS of the load generator (this process); 0 for the Go default (one per core)")
	reader := flag.String("reader", "raw", "client reader: raw (this program's minimal WebSocket client, cheapest per message) or websocket (coder/websocket)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the load generator (not the emulator) to this file")
	flag.DurationVar(&cfg.hold, "hold", 0, "after connecting each level, wait this long before measuring (to take a heap profile of the emulator)")
	flag.IntVar(&cfg.window, "window", 8, "messages per connection sent but not yet received at most (closed-loop load; latency grows with it)")
	flag.Parse()
	var err error
	if cfg.levels, err = ints(levels); err == nil {
		cfg.sizes, err = ints(sizes)
	}
	if err == nil && *reader != "raw" && *reader != "websocket" {
		err = fmt.Errorf("-reader is %q: use raw or websocket", *reader)
	}
	cfg.raw = *reader == "raw"
	if err == nil && (cfg.procs < 0 || cfg.groups < 1 || cfg.sizeConns < cfg.groups || cfg.deliveries < 1 || cfg.inflight < 1 || cfg.dialWorkers < 1 || cfg.emuProcs < 0) {
		err = errors.New("-groups, -deliveries, -inflight and -dial-workers must be >= 1, -size-conns >= -groups, -procs and -emulator-procs >= 0")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulatorload:", err)
		os.Exit(2)
	}
	cfg.groupSize = cfg.sizeConns / cfg.groups
	if cfg.procs > 0 {
		runtime.GOMAXPROCS(cfg.procs)
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "emulatorload:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(cfg); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "emulatorload:", err)
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

// memStats is what the child reports about its Go runtime.
type memStats struct {
	HeapInuse  uint64 `json:"heapInuse"`
	StackInuse uint64 `json:"stackInuse"`
	Goroutines int    `json:"goroutines"`
}

// memPath is the child's runtime-statistics endpoint, outside the
// emulator's /api/ and /client/ paths.
const memPath = "/debug/memstats"

// serve is the child: the emulator with its defaults (20 s keep-alive
// pings, 1000-message send queues) plus the statistics endpoint.
func serve() error {
	if _, err := proc.RaiseFileLimit(); err != nil {
		return err
	}
	e, err := emulator.New()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", e.Handler())
	mux.HandleFunc(memPath, func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(memStats{HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine()})
	})
	// Profiles of the emulator under load: go tool pprof URL/debug/pprof/profile?seconds=5
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	defer e.Close()
	return proc.Serve(mux)
}

// client is one WebSocket client of the load generator.
type client struct {
	ws       *websocket.Conn // with -reader=websocket
	raw      *rawConn        // with -reader=raw
	reliable bool
	got      atomic.Int64 // data messages received
	dup      atomic.Int64 // messages whose number was seen before
	seen     []uint64     // bitset of message numbers; owned by the reader
	done     chan struct{}

	mu  sync.Mutex
	lat []time.Duration // latencies of the current measurement
}

// run state shared by all readers of one measurement.
type measurement struct {
	expected int64
	received atomic.Int64
	complete chan struct{}
	once     sync.Once
}

type harness struct {
	cfg   config
	child *proc.Child
	rest  *webpubsub.Client
	base  string
	ctx   context.Context

	cur atomic.Pointer[measurement]
}

func run(cfg config) error {
	limit, err := proc.RaiseFileLimit()
	if err != nil {
		return err
	}
	need := uint64(slices.Max(append(slices.Clone(cfg.levels), cfg.sizeConns))) + 256
	if limit != 0 && limit < need {
		return fmt.Errorf("the open-file limit is %d but %d connections need about %d: raise it (ulimit -n %d) or lower -conns", limit, slices.Max(cfg.levels), need, need)
	}
	child, err := proc.Start("-serve", strconv.Itoa(cfg.emuProcs))
	if err != nil {
		return err
	}
	defer child.Stop()
	fmt.Fprintf(os.Stderr, "emulator at %s (profile: go tool pprof %s/debug/pprof/profile?seconds=5)\n", child.URL, child.URL)
	hc := &http.Client{Transport: func() *http.Transport {
		tr := wire.HTTPTransport()
		tr.MaxIdleConnsPerHost = 64
		return tr
	}()}
	rest, err := webpubsub.NewClientFromConnectionString("Endpoint="+child.URL+";AccessKey="+emulator.DefaultAccessKey, "plain", webpubsub.WithHTTPClient(hc))
	if err != nil {
		return err
	}
	h := &harness{cfg: cfg, child: child, rest: rest, base: child.URL, ctx: context.Background()}

	fmt.Println(environment(limit, cfg.emuProcs, cfg.raw))
	fmt.Println()

	base, err := h.memory()
	if err != nil {
		return err
	}
	fmt.Printf("Idle connections (json.webpubsub.azure.v1), emulator process; baseline RSS %.1f MiB, heap+stack %.1f MiB\n", mib(base.rss), mib(int64(base.heapStack())))
	fmt.Printf("%8s %10s %12s %14s %16s %11s %12s\n", "conns", "RSS MiB", "RSS/conn KiB", "heap+stack MiB", "heap+stack/conn", "goroutines", "connect/s")
	var bcast []string
	var plain []*client
	var plain1000 row
	for _, n := range cfg.levels {
		t0 := time.Now()
		more, err := h.connect("plain", n-len(plain), false, nil)
		if err != nil {
			closeAll(plain)
			return err
		}
		rate := float64(len(more)) / time.Since(t0).Seconds()
		plain = append(plain, more...)
		time.Sleep(500*time.Millisecond + cfg.hold) // let handshakes settle
		m, err := h.memory()
		if err != nil {
			return err
		}
		fmt.Printf("%8d %10.1f %12.1f %14.1f %16s %11d %12.0f\n", n, mib(m.rss), kib(m.rss-base.rss)/float64(n),
			mib(int64(m.heapStack())), fmt.Sprintf("%.1f KiB", kib(int64(m.heapStack())-int64(base.heapStack()))/float64(n)), m.goroutines, rate)
		r, err := h.broadcast("plain", plain, 100)
		if err != nil {
			closeAll(plain)
			return err
		}
		if n == cfg.sizeConns {
			plain1000 = r
		}
		bcast = append(bcast, r.format(fmt.Sprintf("%d conns, 100 B", n)))
	}
	fmt.Println()
	fmt.Println("Broadcast (SendToAll) by connection count, json.webpubsub.azure.v1")
	fmt.Println(header())
	for _, s := range bcast {
		fmt.Println(s)
	}
	// Keep the sweep's connections, close the rest.
	sweep := plain
	if len(plain) > cfg.sizeConns {
		closeAll(plain[cfg.sizeConns:])
		sweep = plain[:cfg.sizeConns]
	} else if len(plain) < cfg.sizeConns {
		more, err := h.connect("plain", cfg.sizeConns-len(plain), false, nil)
		if err != nil {
			closeAll(plain)
			return err
		}
		sweep = append(plain, more...)
	}
	fmt.Println()
	fmt.Printf("Broadcast by message size, %d connections, json.webpubsub.azure.v1 (each REST body is the JSON message of that size)\n", len(sweep))
	fmt.Println(header())
	for _, size := range cfg.sizes {
		r := plain1000
		if size != 100 || r.messages == 0 {
			if r, err = h.broadcast("plain", sweep, size); err != nil {
				closeAll(sweep)
				return err
			}
			if size == 100 {
				plain1000 = r
			}
		}
		fmt.Println(r.format(sizeName(size)))
	}
	closeAll(sweep)

	// Groups: 100 groups of 10, joined through the token.
	fmt.Println()
	fmt.Printf("Send to %d groups of %d (SendToGroup, each group in turn, %d REST calls in flight)\n", cfg.groups, cfg.groupSize, cfg.inflight)
	fmt.Println(header())
	grouped, err := h.connect("groups", cfg.groups*cfg.groupSize, false, func(i int) []string { return []string{"g" + strconv.Itoa(i%cfg.groups)} })
	if err != nil {
		return err
	}
	r, err := h.groupSend("groups", grouped, 100)
	closeAll(grouped)
	if err != nil {
		return err
	}
	fmt.Println(r.format("100 B"))

	// Reliable vs plain.
	fmt.Println()
	fmt.Printf("Reliable (json.reliable.webpubsub.azure.v1, sequenceAck every %d messages) vs plain, %d connections, 100 B broadcast\n", ackEvery, cfg.sizeConns)
	fmt.Println(header())
	before, err := h.memory()
	if err != nil {
		return err
	}
	rel, err := h.connect("reliable", cfg.sizeConns, true, nil)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	after, err := h.memory()
	if err != nil {
		closeAll(rel)
		return err
	}
	rr, err := h.broadcast("reliable", rel, 100)
	closeAll(rel)
	if err != nil {
		return err
	}
	fmt.Println(plain1000.format("plain"))
	fmt.Println(rr.format("reliable"))
	if plain1000.messages > 0 {
		fmt.Printf("reliable/plain: throughput %.2fx, p50 %.2fx, p99 %.2fx\n", rr.perSec()/plain1000.perSec(), float64(rr.p50)/float64(plain1000.p50), float64(rr.p99)/float64(plain1000.p99))
	}
	fmt.Printf("idle reliable connection (measured after the earlier clients closed, so a lower bound): %.1f KiB RSS, %.1f KiB heap+stack each\n",
		kib(after.rss-before.rss)/float64(len(rel)), kib(int64(after.heapStack())-int64(before.heapStack()))/float64(len(rel)))
	return h.mqttFanout(cfg.sizeConns)
}

// ackEvery is how often a reliable client acknowledges.
const ackEvery = 64

type mem struct {
	rss        int64
	heap       uint64
	stack      uint64
	goroutines int
}

func (m mem) heapStack() uint64 { return m.heap + m.stack }

func (h *harness) memory() (mem, error) {
	resp, err := http.Get(h.base + memPath)
	if err != nil {
		return mem{}, err
	}
	defer resp.Body.Close()
	var ms memStats
	if err := json.NewDecoder(resp.Body).Decode(&ms); err != nil {
		return mem{}, err
	}
	rss, err := h.child.RSS()
	if err != nil {
		return mem{}, err
	}
	return mem{rss: rss, heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: ms.Goroutines}, nil
}

// connect opens n clients of hub, each with the groups groupsOf(i) in its
// token, and starts their readers.
func (h *harness) connect(hub string, n int, reliable bool, groupsOf func(int) []string) ([]*client, error) {
	if n <= 0 {
		return nil, nil
	}
	tc, err := webpubsub.NewClientFromConnectionString("Endpoint="+h.base+";AccessKey="+emulator.DefaultAccessKey, hub)
	if err != nil {
		return nil, err
	}
	proto := wire.SubprotocolJSON
	if reliable {
		proto = wire.SubprotocolJSONReliable
	}
	out := make([]*client, n)
	idx := make(chan int)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range h.cfg.dialWorkers {
		wg.Go(func() {
			for i := range idx {
				var groups []string
				if groupsOf != nil {
					groups = groupsOf(i)
				}
				c, err := h.dial(tc, proto, groups)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connecting client %d of %d: %w", i+1, n, err)
					}
					mu.Unlock()
					continue
				}
				c.reliable = reliable
				out[i] = c
			}
		})
	}
	for i := range n {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if firstErr != nil {
		closeAll(out)
		return nil, firstErr
	}
	for _, c := range out {
		go h.read(c)
	}
	return out, nil
}

func (h *harness) dial(tc *webpubsub.Client, proto string, groups []string) (*client, error) {
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	tok, err := tc.ClientAccessToken(ctx, &webpubsub.TokenOptions{Groups: groups})
	if err != nil {
		return nil, err
	}
	if h.cfg.raw {
		rc, err := dialRaw(ctx, tok.URL, proto)
		if err != nil {
			return nil, err
		}
		// The first message is the "connected" system message.
		if err := rc.next(func([]byte) {}); err != nil {
			_ = rc.closeNow()
			return nil, fmt.Errorf("reading the connected message: %w", err)
		}
		return &client{raw: rc, done: make(chan struct{})}, nil
	}
	ws, _, err := websocket.Dial(ctx, tok.URL, &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(4 << 20)
	// The first message is the "connected" system message.
	if _, _, err := ws.Read(ctx); err != nil {
		_ = ws.CloseNow()
		return nil, fmt.Errorf("reading the connected message: %w", err)
	}
	return &client{ws: ws, done: make(chan struct{})}, nil
}

func closeAll(cs []*client) {
	for _, c := range cs {
		if c != nil {
			_ = c.closeNow()
		}
	}
	for _, c := range cs {
		if c != nil {
			<-c.done
		}
	}
}

var (
	keyT   = []byte(`"t":`)
	keyN   = []byte(`"n":`)
	keySeq = []byte(`"sequenceId":`)
)

// number parses the unsigned integer after key in b.
func number(b, key []byte) (uint64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	var v uint64
	j := i + len(key)
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		v = v*10 + uint64(b[j]-'0')
		j++
	}
	return v, j > start
}

func (c *client) closeNow() error {
	if c.raw != nil {
		return c.raw.closeNow()
	}
	return c.ws.CloseNow()
}

// Only the head (the payload's "t" and "n" come first in data) and the
// tail (sequenceId ends the message) of a message matter: the rest is
// dropped as it is read, so large messages cost this process little memory.
const headSize, tailSize = 256, 64

// excerpt keeps a message's head and tail while its payload streams by.
type excerpt struct {
	head, tail []byte
}

func newExcerpt() *excerpt {
	return &excerpt{head: make([]byte, 0, headSize), tail: make([]byte, 0, 2*tailSize)}
}

func (e *excerpt) reset() { e.head, e.tail = e.head[:0], e.tail[:0] }

// add takes the next chunk of the payload.
func (e *excerpt) add(chunk []byte) {
	if room := headSize - len(e.head); room > 0 {
		e.head = append(e.head, chunk[:min(room, len(chunk))]...)
	}
	if len(chunk) >= tailSize {
		e.tail = append(e.tail[:0], chunk[len(chunk)-tailSize:]...)
	} else {
		e.tail = append(e.tail, chunk...)
		if len(e.tail) > tailSize {
			e.tail = append(e.tail[:0], e.tail[len(e.tail)-tailSize:]...)
		}
	}
}

// read receives until the socket ends: it counts data messages, records
// their latency, notices duplicates and acknowledges reliable ones. It is
// the client's only goroutine.
func (h *harness) read(c *client) {
	defer close(c.done)
	e := newExcerpt()
	scratch := make([]byte, 16<<10)
	var sinceAck int
	for {
		e.reset()
		if c.raw != nil {
			if err := c.raw.next(e.add); err != nil {
				return
			}
		} else if !h.readWebSocket(c.ws, e, scratch) {
			return
		}
		if !h.record(c, e.head, time.Now()) || !c.reliable {
			continue
		}
		if sinceAck++; sinceAck < ackEvery {
			continue
		}
		sinceAck = 0
		if seq, ok := number(e.tail, keySeq); ok {
			ack := []byte(`{"type":"sequenceAck","sequenceId":` + strconv.FormatUint(seq, 10) + `}`)
			var err error
			if c.raw != nil {
				err = c.raw.write(opText, ack)
			} else {
				err = c.ws.Write(h.ctx, websocket.MessageText, ack)
			}
			if err != nil {
				return
			}
		}
	}
}

// readWebSocket reads one message with coder/websocket into e; false when
// the socket ended.
func (h *harness) readWebSocket(ws *websocket.Conn, e *excerpt, scratch []byte) bool {
	_, r, err := ws.Reader(h.ctx)
	if err != nil {
		return false
	}
	for {
		n, err := r.Read(scratch)
		e.add(scratch[:n])
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// record counts one received message whose head is head; false when it is
// not a data message of this harness.
func (h *harness) record(c *client, head []byte, now time.Time) bool {
	if !bytes.Contains(head[:min(len(head), 64)], []byte(`"type":"message"`)) {
		return false
	}
	return h.count(c, head, now)
}

// count counts one data message whose head holds the payload's "t" and "n"
// (a json message or an MQTT PUBLISH payload); false when it has none.
func (h *harness) count(c *client, head []byte, now time.Time) bool {
	t, ok1 := number(head, keyT)
	n, ok2 := number(head, keyN)
	if !ok1 || !ok2 {
		return false
	}
	// Message numbers are global and small (one per REST call), so a
	// bitset per client is cheap.
	w := int(n / 64)
	for w >= len(c.seen) {
		c.seen = append(c.seen, 0)
	}
	if c.seen[w]&(1<<(n%64)) != 0 {
		c.dup.Add(1)
	} else {
		c.seen[w] |= 1 << (n % 64)
	}
	c.got.Add(1)
	if m := h.cur.Load(); m != nil {
		c.mu.Lock()
		c.lat = append(c.lat, now.Sub(time.Unix(0, int64(t))))
		c.mu.Unlock()
		if m.received.Add(1) == m.expected {
			m.once.Do(func() { close(m.complete) })
		}
	}
	return true
}

// row is one measured cell.
type row struct {
	conns      int
	messages   int
	deliveries int64
	elapsed    time.Duration
	p50, p99   time.Duration
	max        time.Duration
	lost, dups int64
	dropped    int // connections that ended
	restCalls  int
}

func (r row) perSec() float64 { return float64(r.deliveries) / r.elapsed.Seconds() }

func header() string {
	return fmt.Sprintf("%-18s %7s %9s %10s %14s %9s %9s %9s %6s %5s %7s", "case", "conns", "messages", "delivered", "deliveries/s", "p50", "p99", "max", "lost", "dups", "dropped")
}

func (r row) format(name string) string {
	return fmt.Sprintf("%-18s %7d %9d %10d %14.0f %9s %9s %9s %6d %5d %7d", name, r.conns, r.messages, r.deliveries, r.perSec(),
		ms(r.p50), ms(r.p99), ms(r.max), r.lost, r.dups, r.dropped)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// payload returns {"t":<now ns>,"n":<n>,"p":"xxx…"} padded to size bytes.
func payload(n, size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, time.Now().UnixNano(), 10)
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"p":"`...)
	for len(b) < size-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// messagesFor bounds a measurement by deliveries and bytes.
func (h *harness) messagesFor(conns, size int) int {
	m := h.cfg.deliveries / conns
	if byBytes := int(h.cfg.maxBytes / int64(size*conns)); byBytes < m {
		m = byBytes
	}
	return max(m, 2)
}

// deliver runs one measurement: sends calls REST send functions, each of
// which reaches perCall connections; targets are the clients that should
// receive messages.
func (h *harness) deliver(targets []*client, calls int, perCall int, send func(i int) error) (row, error) {
	m := &measurement{expected: int64(calls * perCall), complete: make(chan struct{})}
	startGot := make([]int64, len(targets))
	startDup := make([]int64, len(targets))
	for i, c := range targets {
		startGot[i], startDup[i] = c.got.Load(), c.dup.Load()
		c.mu.Lock()
		c.lat = c.lat[:0]
		c.mu.Unlock()
	}
	h.cur.Store(m)
	defer h.cur.Store(nil)
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.timeout)
	defer cancel()

	t0 := time.Now()
	next := make(chan int)
	var sendErr atomic.Value
	var wg sync.WaitGroup
	for range h.cfg.inflight {
		wg.Go(func() {
			for i := range next {
				if err := send(i); err != nil {
					sendErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	// Closed loop: no connection may be more than cfg.window messages behind
	// (well inside the emulator's 1000-message send queue, so a reader this
	// process starves of CPU is never dropped as a slow consumer).
	lagging := func(sent int) bool {
		want := int64(sent*perCall/len(targets)) - int64(h.cfg.window)
		if want <= 0 {
			return false
		}
		for i, c := range targets {
			if c.got.Load()-startGot[i] < want {
				return true
			}
		}
		return false
	}
feed:
	for i := range calls {
		for lagging(i) {
			if ctx.Err() != nil {
				break feed
			}
			time.Sleep(50 * time.Microsecond)
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err, ok := sendErr.Load().(error); ok {
		return row{}, fmt.Errorf("a send failed: %w", err)
	}
	select {
	case <-m.complete:
	case <-ctx.Done():
	}
	elapsed := time.Since(t0)
	time.Sleep(200 * time.Millisecond) // let late duplicates show
	r := row{conns: len(targets), messages: calls, restCalls: calls, elapsed: elapsed}
	for i, c := range targets {
		got := c.got.Load() - startGot[i]
		want := int64(calls * perCall / len(targets))
		if got < want {
			r.lost += want - got
		}
		r.dups += c.dup.Load() - startDup[i]
		select {
		case <-c.done:
			r.dropped++
		default:
		}
	}
	lat := make([]time.Duration, 0, m.expected)
	for _, c := range targets {
		c.mu.Lock()
		lat = append(lat, c.lat...)
		c.mu.Unlock()
	}
	r.deliveries = int64(len(lat))
	if len(lat) > 0 {
		slices.Sort(lat)
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
		r.max = lat[len(lat)-1]
	}
	if r.lost > 0 {
		fmt.Fprintf(os.Stderr, "WARNING: %d deliveries lost (%d of %d received within %v)\n", r.lost, len(lat), m.expected, h.cfg.timeout)
	}
	return r, nil
}

// seq numbers messages across measurements, so a late message of an
// earlier measurement is never counted as a new one.
var seq atomic.Int64

func (h *harness) broadcast(hub string, targets []*client, size int) (row, error) {
	c, err := webpubsub.NewClientFromConnectionString("Endpoint="+h.base+";AccessKey="+emulator.DefaultAccessKey, hub, webpubsub.WithHTTPClient(restHTTP))
	if err != nil {
		return row{}, err
	}
	calls := h.messagesFor(len(targets), size)
	return h.deliver(targets, calls, len(targets), func(int) error {
		return c.SendToAll(h.ctx, webpubsub.RawJSON(payload(int(seq.Add(1)), size)), nil)
	})
}

func (h *harness) groupSend(hub string, targets []*client, size int) (row, error) {
	c, err := webpubsub.NewClientFromConnectionString("Endpoint="+h.base+";AccessKey="+emulator.DefaultAccessKey, hub, webpubsub.WithHTTPClient(restHTTP))
	if err != nil {
		return row{}, err
	}
	per := h.cfg.groupSize
	calls := h.messagesFor(per, size)
	calls = max(calls/h.cfg.groups, 1) * h.cfg.groups // whole rounds over the groups
	calls = min(calls, h.cfg.groups*50)               // 50 rounds at most: REST-bound
	return h.deliver(targets, calls, per, func(i int) error {
		return c.Group("g"+strconv.Itoa(i%h.cfg.groups)).Send(h.ctx, webpubsub.RawJSON(payload(int(seq.Add(1)), size)), nil)
	})
}

// restHTTP keeps enough idle connections for the senders.
var restHTTP = &http.Client{Transport: func() *http.Transport {
	tr := wire.HTTPTransport()
	tr.MaxIdleConnsPerHost = 64
	return tr
}()}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
func kib(b int64) float64 { return float64(b) / (1 << 10) }

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func environment(limit uint64, emuProcs int, raw bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "go %s, GOMAXPROCS %d, NumCPU %d, open-file limit %d", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), limit)
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(la)); len(f) >= 3 {
			fmt.Fprintf(&b, ", load %s %s %s", f[0], f[1], f[2])
		}
	}
	procs := "GOMAXPROCS default"
	if emuProcs > 0 {
		procs = fmt.Sprintf("GOMAXPROCS %d", emuProcs)
	}
	fmt.Fprintf(&b, "\nemulator: internal/emulator with its defaults in a child process (%s; RSS from /proc; heap+stack = runtime HeapInuse+StackInuse after GC); load generator: this process, reader %s", procs, map[bool]string{true: "raw", false: "websocket (coder/websocket)"}[raw])
	return b.String()
}
