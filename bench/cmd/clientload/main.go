// Command clientload measures the WebSocket client SDK webpubsub/wsclient
// side by side with the official JavaScript client @azure/web-pubsub-client
// 1.1 (bench/js/recv.mjs), in one run against the same emulator, and
// measures the memory of many idle wsclient connections. `make
// bench-client` runs it; docs/PERFORMANCE.md explains the method and holds
// the figures.
//
// Processes: the emulator runs in a child process of this program; each
// receiver (one wsclient, one node) runs in its own child process, one at a
// time, so that the CPU time and allocations it reports are its own; this
// process publishes with a wsclient on the json.webpubsub.azure.v1
// protocol (fire-and-forget SendToGroup, no echo). Both receivers use their
// SDK's default, the reliable protocol, join the same group and check that
// every message arrives once and in order. The sender is paced by the
// receiver's progress reports (at most -window messages ahead), so a
// receiver is never cut off as too slow and the figure is what it can
// take. A receiver measures from its first message to its last: messages
// per second, CPU time per message (getrusage; process.cpuUsage in node)
// and, for Go, heap allocations per message (runtime.MemStats.Mallocs).
//
// The idle test opens -conns wsclient connections in one child process and
// reports its RSS growth per connection (VmRSS after GC, before minus
// after), the Go heap and the goroutines per connection.
//
// Nothing here asserts a timing.
package main

import (
	"bufio"
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
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webpubsub-go/sdk/bench/internal/proc"
	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

const (
	hub   = "bench"
	group = "g"
	// progressEvery is how often a receiver reports its count in the
	// live mode (the publisher is paced by it); in the backlog mode the
	// report only shows progress, and every write to the pipe would be
	// measured as the receiver's work: backlogProgressEvery.
	progressEvery        = 100
	backlogProgressEvery = 10000
)

// result is what a receiver child prints last.
type result struct {
	Count     int     `json:"count"`
	Seconds   float64 `json:"seconds"`
	CPUMicros float64 `json:"cpuMicros"`
	Allocs    float64 `json:"allocs,omitempty"` // Go only
}

// idleResult is what the idle child prints.
type idleResult struct {
	Conns         int   `json:"conns"`
	Queue         int   `json:"queue"`
	RSSBefore     int64 `json:"rssBefore"`
	RSSAfter      int64 `json:"rssAfter"`
	HeapBefore    int64 `json:"heapBefore"`
	HeapAfter     int64 `json:"heapAfter"`
	GoroutinesPer int   `json:"goroutinesPer"`
}

func main() {
	if len(os.Args) > 1 {
		var err error
		switch os.Args[1] {
		case "-serve":
			err = serve(os.Args[2:])
		case "-recv":
			err = recvChild(os.Args[2:])
		case "-idle":
			err = idleChild(os.Args[2:])
		default:
			err = errNotChild
		}
		if err != errNotChild {
			if err != nil {
				fmt.Fprintln(os.Stderr, "clientload:", err)
				os.Exit(1)
			}
			return
		}
	}
	messages := flag.Int("messages", 100000, "messages each receiver gets")
	size := flag.Int("size", 100, "bytes of text per message (at least 9)")
	rounds := flag.Int("rounds", 3, "rounds; each runs both receivers, in alternating order; the table shows the median")
	window := flag.Int("window", 500, "messages sent but not yet reported received at most (a reliable connection may hold 1,000 unacknowledged messages, and a receiver acknowledges when 300 are)")
	conns := flag.Int("conns", 10000, "idle wsclient connections of the memory test (0: skip)")
	queue := flag.Int("idle-queue", 0, "Options.ReceiveQueue of the idle connections (0: the default)")
	jsDir := flag.String("js", "bench/js", "directory of recv.mjs with node_modules (skipped when missing)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	mode := flag.String("mode", "both", "backlog (each receiver drains messages queued while it was paused: its own top rate), live (it reads while the publisher sends) or both")
	flag.StringVar(&allocProfile, "alloc-profile", "", "write an allocation profile (every allocation) of the wsclient receiver to this file")
	flag.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the wsclient receiver (its last round) to this file")
	flag.StringVar(&emulatorProfile, "emulator-cpu-profile", "", "write a CPU profile of the emulator (the whole run) to this file")
	flag.StringVar(&idleProfile, "idle-profile", "", "write a heap profile of the idle connections' process to this file")
	flag.Parse()
	if *messages < 1 || *size < 9 || *rounds < 1 || *window < progressEvery || *conns < 0 || *queue < 0 {
		fmt.Fprintln(os.Stderr, "clientload: -messages and -rounds must be >= 1, -size >= 9, -window >= 100, -conns and -idle-queue >= 0")
		os.Exit(2)
	}
	var modes []string
	switch *mode {
	case "both":
		modes = []string{modeLive}
		if canPause {
			modes = []string{modeBacklog, modeLive}
		}
	case modeBacklog, modeLive:
		modes = []string{*mode}
	default:
		fmt.Fprintf(os.Stderr, "clientload: -mode %q: use backlog, live or both\n", *mode)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, modes, *messages, *size, *rounds, *window, *conns, *queue, *jsDir); err != nil {
		fmt.Fprintln(os.Stderr, "clientload:", err)
		os.Exit(1)
	}
}

var errNotChild = errors.New("not a child role")

// serve is the emulator child: PROFILE (may be empty).
func serve(args []string) error {
	if len(args) != 1 {
		return errors.New("-serve PROFILE")
	}
	stop, err := startCPUProfile(args[0])
	if err != nil {
		return err
	}
	defer stop()
	if _, err := proc.RaiseFileLimit(); err != nil {
		return err
	}
	// The JavaScript client acknowledges sequence ids once a second (its
	// quick ack only fires when one message's id jumps by more than 300),
	// so at more than 1,000 messages a second the service's limit of
	// unacknowledged messages would end its connection. Raise the limit
	// so that both clients are measured at their own pace.
	e, err := emulator.New(emulator.WithReliableBufferMessages(reliableBuffer))
	if err != nil {
		return err
	}
	defer e.Close()
	return proc.Serve(e.Handler())
}

func run(ctx context.Context, modes []string, messages, size, rounds, window, conns, queue int, jsDir string) error {
	if _, err := proc.RaiseFileLimit(); err != nil {
		return err
	}
	emu, err := proc.Start("-serve", emulatorProfile)
	if err != nil {
		return err
	}
	defer emu.Stop()
	rest, err := webpubsub.NewClientFromConnectionString("Endpoint="+emu.URL+";AccessKey="+emulator.DefaultAccessKey+";", hub)
	if err != nil {
		return err
	}
	token := func(user string, roles ...string) (string, error) {
		t, err := rest.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: user, Roles: roles, Expiry: time.Hour})
		return t.URL, err
	}
	recvURL, err := token("receiver", "webpubsub.joinLeaveGroup")
	if err != nil {
		return err
	}
	pubURL, err := token("publisher", "webpubsub.sendToGroup")
	if err != nil {
		return err
	}
	pub, err := wsclient.New(pubURL, &wsclient.Options{Protocol: wsclient.ProtocolJSON})
	if err != nil {
		return err
	}
	if err := pub.Start(ctx); err != nil {
		return err
	}
	defer pub.Stop()

	node := ""
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "@azure", "web-pubsub-client")); err != nil {
		fmt.Printf("skipping @azure/web-pubsub-client: %s/node_modules lacks it (npm ci in %s)\n", jsDir, jsDir)
	} else if node, err = exec.LookPath("node"); err != nil {
		fmt.Println("skipping @azure/web-pubsub-client: node is not installed")
		node = ""
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	impls := []string{"wsclient"}
	if node != "" {
		impls = append(impls, "web-pubsub-client")
	}
	fmt.Printf("%d messages of %d bytes to one receiver, %d rounds, GOMAXPROCS %d, %s\n", messages, size, rounds, runtime.GOMAXPROCS(0), runtime.Version())
	for _, m := range modes {
		fmt.Printf("\n%s\n", modeTitle[m])
		all := map[string][]result{}
		for r := range rounds {
			for i := range impls {
				impl := impls[(i+r)%len(impls)]
				var cmd *exec.Cmd
				every := strconv.Itoa(progressEvery)
				if m == modeBacklog {
					every = strconv.Itoa(backlogProgressEvery)
				}
				if impl == "wsclient" {
					cmd = exec.CommandContext(ctx, self, "-recv", recvURL, group, strconv.Itoa(messages), every, allocProfile, cpuProfile)
				} else {
					cmd = exec.CommandContext(ctx, node, "recv.mjs", recvURL, group, strconv.Itoa(messages), every)
					cmd.Dir = jsDir
				}
				res, err := measure(ctx, m, cmd, pub, messages, size, window)
				if err != nil {
					return fmt.Errorf("%s, %s, round %d: %w", impl, m, r+1, err)
				}
				all[impl] = append(all[impl], res)
				fmt.Printf("  round %d %-18s %9.0f msg/s  %6.2f µs CPU/msg  %5.1f allocs/msg\n", r+1, impl,
					float64(res.Count)/res.Seconds, res.CPUMicros/float64(res.Count), res.Allocs/float64(res.Count))
			}
		}
		printTable(m, impls, all)
	}
	if conns > 0 {
		return idle(ctx, self, recvURL, conns, queue)
	}
	return nil
}

// printTable prints the medians of one mode's rounds.
func printTable(mode string, impls []string, all map[string][]result) {
	fmt.Printf("%-20s %12s %14s %14s\n", "receiver ("+mode+")", "msg/s", "µs CPU/msg", "allocs/msg")
	med := map[string][3]float64{}
	for _, impl := range impls {
		m := [3]float64{
			median(all[impl], func(r result) float64 { return float64(r.Count) / r.Seconds }),
			median(all[impl], func(r result) float64 { return r.CPUMicros / float64(r.Count) }),
			median(all[impl], func(r result) float64 { return r.Allocs / float64(r.Count) }),
		}
		med[impl] = m
		allocs := fmt.Sprintf("%.1f", m[2])
		if impl != "wsclient" {
			allocs = "-"
		}
		fmt.Printf("%-20s %12.0f %14.2f %14s\n", impl, m[0], m[1], allocs)
	}
	if js, ok := med["web-pubsub-client"]; ok {
		g := med["wsclient"]
		fmt.Printf("%s: wsclient vs JS: %.1fx the messages per second, %.2fx the CPU per message\n", mode, g[0]/js[0], g[1]/js[1])
	}
}

// The modes of a measurement.
const (
	// modeBacklog: the receiver's process is paused (SIGSTOP) once it has
	// joined, every message is published into the service's buffer for
	// it, and the process resumes: it then reads as fast as it can, and
	// the figure is the receiver's own top rate, not the publisher's.
	modeBacklog = "backlog"
	// modeLive: the receiver reads while the messages are published; the
	// publisher stays at most -window messages ahead of it.
	modeLive = "live"
)

var modeTitle = map[string]string{
	modeBacklog: "backlog: the receiver drains messages queued for it while it was paused (its own top rate)",
	modeLive:    "live: the receiver reads while the publisher sends, at most -window messages ahead (the rate is the publisher's and the emulator's)",
}

// measure runs one receiver child, feeds it the messages in the given mode
// and returns its result.
func measure(ctx context.Context, mode string, cmd *exec.Cmd, pub *wsclient.Client, messages, size, window int) (result, error) {
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var received atomic.Int64
	final := make(chan string, 1)
	ready := make(chan struct{})
	go func() {
		for l := range lines {
			switch {
			case l == "ready":
				close(ready)
			case strings.HasPrefix(l, "n "):
				n, _ := strconv.Atoi(l[2:])
				received.Store(int64(n))
			case strings.HasPrefix(l, "{"):
				final <- l
			default:
				final <- l
			}
		}
		close(final)
	}()
	select {
	case <-ready:
	case l := <-final:
		return result{}, fmt.Errorf("the receiver did not start: %q", l)
	case <-ctx.Done():
		return result{}, ctx.Err()
	}
	pad := strings.Repeat("x", size-9)
	opts := &wsclient.SendToGroupOptions{NoEcho: true, FireAndForget: true}
	if mode == modeBacklog {
		// The child is paused after it printed "ready"; once the last
		// message is acknowledged by the service, every message waits
		// in the service's buffer for it (the service handles one
		// connection's messages in order).
		if err := pause(cmd.Process); err != nil {
			return result{}, err
		}
		for i := range messages {
			o := opts
			if i == messages-1 {
				o = &wsclient.SendToGroupOptions{NoEcho: true}
			}
			if err := pub.SendToGroup(ctx, group, wsclient.Text(fmt.Sprintf("%09d", i)+pad), o); err != nil {
				_ = resume(cmd.Process)
				return result{}, err
			}
		}
		if err := resume(cmd.Process); err != nil {
			return result{}, err
		}
		return awaitResult(ctx, final, &received, messages)
	}
	for i := range messages {
		for since := time.Now(); int64(i)-received.Load() >= int64(window); {
			select {
			case <-ctx.Done():
				return result{}, ctx.Err()
			case l := <-final:
				return result{}, fmt.Errorf("the receiver ended early: %q", l)
			case <-time.After(100 * time.Microsecond):
			}
			if time.Since(since) > stallTimeout {
				return result{}, fmt.Errorf("the receiver got no message for %v, at about %d of %d", stallTimeout, received.Load(), messages)
			}
		}
		if err := pub.SendToGroup(ctx, group, wsclient.Text(fmt.Sprintf("%09d", i)+pad), opts); err != nil {
			return result{}, err
		}
	}
	return awaitResult(ctx, final, &received, messages)
}

// awaitResult waits for the receiver's final line, ending the wait when
// the receiver stops making progress.
func awaitResult(ctx context.Context, final <-chan string, received *atomic.Int64, messages int) (result, error) {
	for last, since := received.Load(), time.Now(); ; {
		select {
		case l, ok := <-final:
			var res result
			if !ok || json.Unmarshal([]byte(l), &res) != nil || res.Count != messages || res.Seconds <= 0 {
				return result{}, fmt.Errorf("the receiver reported %q", l)
			}
			return res, nil
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-time.After(time.Second):
			if n := received.Load(); n != last {
				last, since = n, time.Now()
			} else if time.Since(since) > stallTimeout {
				return result{}, fmt.Errorf("the receiver got no message for %v, at about %d of %d", stallTimeout, n, messages)
			}
		}
	}
}

// allocProfile is the -alloc-profile file, passed to the receiver child;
// idleProfile the -idle-profile file, passed to the idle child.
// cpuProfile the -cpu-profile file, passed to the receiver child.
// emulatorProfile the -emulator-cpu-profile file, passed to the emulator.
var allocProfile, cpuProfile, idleProfile, emulatorProfile string

// reliableBuffer is the emulator's limit of unacknowledged messages per
// reliable connection in this benchmark (the service's is 1,000).
const reliableBuffer = 1 << 20

// stallTimeout ends a measurement whose receiver stopped making progress.
const stallTimeout = 15 * time.Second

// recvChild is the wsclient receiver: URL GROUP N EVERY ALLOCPROFILE
// CPUPROFILE (it reports its count every EVERY messages; the profiles may
// be empty).
func recvChild(args []string) error {
	if len(args) != 6 {
		return errors.New("-recv URL GROUP N EVERY ALLOCPROFILE CPUPROFILE")
	}
	every, err := strconv.Atoi(args[3])
	if err != nil || every < 1 {
		return fmt.Errorf("-recv: EVERY %q is not a positive number", args[3])
	}
	args = append(args[:3], args[4:]...)
	if args[3] != "" {
		runtime.MemProfileRate = 1
	}
	want, err := strconv.Atoi(args[2])
	if err != nil {
		return err
	}
	ctx := context.Background()
	c, err := wsclient.New(args[0], &wsclient.Options{
		// A benchmark must not hide a lost connection.
		OnDisconnected: func(e wsclient.DisconnectedEvent) {
			fmt.Fprintf(os.Stderr, "receiver: connection lost: %s %v\n", e.Message, e.Err)
		},
	})
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	defer c.Stop()
	if err := c.JoinGroup(ctx, args[1]); err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	_ = w.Flush()
	var t0 time.Time
	var cpu0 time.Duration
	var ms runtime.MemStats
	var mallocs0 uint64
	stopProfile := func() {}
	for count := 0; count < want; {
		m, err := c.Receive(ctx)
		if err != nil {
			return err
		}
		if count == 0 {
			if stopProfile, err = startCPUProfile(args[4]); err != nil {
				return err
			}
			runtime.ReadMemStats(&ms)
			mallocs0 = ms.Mallocs
			t0, cpu0 = time.Now(), cpuTime()
		}
		s, _ := m.Data.(string)
		if len(s) < 9 {
			return fmt.Errorf("message %d is %q", count, s)
		}
		if seq, err := strconv.Atoi(s[:9]); err != nil || seq != count {
			return fmt.Errorf("message %q arrived as number %d", s[:9], count)
		}
		count++
		if count%every == 0 {
			fmt.Fprintf(w, "n %d\n", count)
			_ = w.Flush()
		}
	}
	secs := time.Since(t0).Seconds()
	cpu := cpuTime() - cpu0
	stopProfile()
	runtime.ReadMemStats(&ms)
	b, _ := json.Marshal(result{Count: want, Seconds: secs, CPUMicros: float64(cpu.Microseconds()), Allocs: float64(ms.Mallocs - mallocs0)})
	if args[3] != "" {
		if err := writeProfile("allocs", args[3]); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, string(b))
	return w.Flush()
}

// idle runs the idle child and prints its figures.
func idle(ctx context.Context, self, url string, conns, queue int) error {
	cmd := exec.CommandContext(ctx, self, "-idle", url, strconv.Itoa(conns), strconv.Itoa(queue), idleProfile)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("idle connections: %w", err)
	}
	var r idleResult
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("idle connections: the child printed %q", out)
	}
	per := float64(r.RSSAfter-r.RSSBefore) / float64(r.Conns) / 1024
	heap := float64(r.HeapAfter-r.HeapBefore) / float64(r.Conns) / 1024
	fmt.Printf("\n%d idle wsclient connections (ReceiveQueue %d): RSS %.1f KiB per connection (%.0f to %.0f MiB), Go heap %.1f KiB, %d goroutines per connection\n",
		r.Conns, r.Queue, per, float64(r.RSSBefore)/(1<<20), float64(r.RSSAfter)/(1<<20), heap, r.GoroutinesPer)
	return nil
}

// idleChild opens N connections, measures, and stops them: URL N QUEUE
// PROFILE (PROFILE may be empty).
func idleChild(args []string) error {
	if len(args) != 4 {
		return errors.New("-idle URL N QUEUE PROFILE")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	queue, err := strconv.Atoi(args[2])
	if err != nil {
		return err
	}
	if queue == 0 {
		queue = wsclient.DefaultReceiveQueue
	}
	if _, err := proc.RaiseFileLimit(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// One connection first, so the baseline holds the code and buffers
	// every connection shares.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
	open := func() (*wsclient.Client, error) {
		c, err := wsclient.New(args[0], &wsclient.Options{HTTPClient: hc, ReceiveQueue: queue})
		if err != nil {
			return nil, err
		}
		return c, c.Start(ctx)
	}
	first, err := open()
	if err != nil {
		return err
	}
	clients := []*wsclient.Client{first}
	rss0, heap0, g0 := settle()
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	next := atomic.Int64{}
	for range 32 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				c, err := open()
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				mu.Lock()
				clients = append(clients, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	defer func() {
		var sw sync.WaitGroup
		for _, c := range clients {
			sw.Go(c.Stop)
		}
		sw.Wait()
	}()
	select {
	case err := <-errs:
		return fmt.Errorf("after %d connections: %w", len(clients)-1, err)
	default:
	}
	time.Sleep(time.Second)
	rss1, heap1, g1 := settle()
	if args[3] != "" {
		if err := writeProfile("heap", args[3]); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(idleResult{Conns: n, Queue: queue, RSSBefore: rss0, RSSAfter: rss1, HeapBefore: heap0, HeapAfter: heap1, GoroutinesPer: (g1 - g0) / n})
	_, err = io.WriteString(os.Stdout, string(b)+"\n")
	return err
}

// startCPUProfile starts a CPU profile into file, when it is not empty,
// and returns the function that ends it.
func startCPUProfile(file string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// writeProfile writes the named runtime/pprof profile to a file.
func writeProfile(name, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// settle collects garbage, returns freed memory to the system and reads
// the RSS, the Go heap in use and the goroutine count.
func settle() (rss, heap int64, goroutines int) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ = proc.RSS(os.Getpid())
	return rss, int64(ms.HeapInuse), runtime.NumGoroutine()
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	for i := range v {
		for j := i + 1; j < len(v); j++ {
			if v[j] < v[i] {
				v[i], v[j] = v[j], v[i]
			}
		}
	}
	return v[len(v)/2]
}
