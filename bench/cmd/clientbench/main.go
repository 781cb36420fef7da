// Command clientbench measures the wsclient package side by side with
// @azure/web-pubsub-client 1.1 against the same emulator (make
// bench-client):
//
//   - receive: one client receives a burst of group messages (published by
//     a wsclient publisher in the emulator's process); its messages per
//     second and CPU per message, for wsclient and for the JavaScript client
//     in Node.js (bench/js), one after the other in the same run;
//   - allocations per received message of wsclient;
//   - idle: RSS per connection of -idle idle wsclient connections in one
//     process.
//
// The emulator runs in a child process, so its CPU and memory are never
// counted with a client's.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/webpubsub-go/sdk/bench/internal/proc"
	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

const (
	hub   = "bench"
	group = "g"
)

func main() {
	serve := flag.Bool("serve", false, "run as the emulator child (internal)")
	n := flag.Int("messages", 50000, "messages per receive run")
	rounds := flag.Int("rounds", 3, "receive runs per client, interleaved")
	idle := flag.Int("idle", 10000, "idle wsclient connections (0: skip)")
	jsDir := flag.String("js", "bench/js", "directory of the Node.js side (skipped when node or its packages are missing)")
	flag.Parse()
	var err error
	if *serve {
		err = child()
	} else {
		err = run(*n, *rounds, *idle, *jsDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientbench:", err)
		os.Exit(1)
	}
}

func connString(endpoint string) string {
	return "Endpoint=" + endpoint + ";AccessKey=" + emulator.DefaultAccessKey + ";Version=1.0;"
}

// child serves the emulator and /bench/publish?n=, which publishes n text
// messages to the group from a wsclient publisher (fire-and-forget, as
// fast as the emulator takes them) and answers when they were written.
func child() error {
	_, _ = proc.RaiseFileLimit()
	e, err := emulator.New(emulator.WithBufferLimits(1<<20, 1<<30), emulator.WithSendQueueLimits(1<<20, 1<<30))
	if err != nil {
		return err
	}
	defer e.Close()
	var mu sync.Mutex
	var sender *wsclient.Client
	defer func() {
		if sender != nil {
			sender.Stop()
		}
	}()
	mux := http.NewServeMux()
	mux.Handle("/", e.Handler())
	mux.HandleFunc("/bench/publish", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		mu.Lock()
		defer mu.Unlock()
		if sender == nil {
			sdk, err := webpubsub.NewClientFromConnectionString(connString("http://"+r.Host), hub)
			if err == nil {
				var tok *webpubsub.ClientAccessToken
				if tok, err = sdk.ClientAccessToken(r.Context(), &webpubsub.TokenOptions{UserID: "publisher", Roles: []string{"webpubsub.sendToGroup"}}); err == nil {
					if sender, err = wsclient.New(tok.URL, &wsclient.Options{Protocol: wsclient.ProtocolJSON}); err == nil {
						err = sender.Start(r.Context())
					}
				}
			}
			if err != nil {
				sender = nil
				http.Error(w, err.Error(), 500)
				return
			}
		}
		failed := 0
		for i := range n {
			if sender.SendToGroup(r.Context(), group, wsclient.Text("message "+strconv.Itoa(i)), &wsclient.SendToGroupOptions{FireAndForget: true}) != nil {
				failed++
			}
		}
		fmt.Fprintf(w, "%d", failed)
	})
	return proc.Serve(mux)
}

// cpu returns the process's user+system CPU time.
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type result struct {
	Messages int     `json:"n"`
	Seconds  float64 `json:"seconds"` // first to last message
	CPUMs    float64 `json:"cpuMs"`   // CPU of the receiving process meanwhile
	Allocs   float64 `json:"allocs"`  // per message (Go only)
}

func (r result) rate() float64      { return float64(r.Messages) / r.Seconds }
func (r result) cpuPerMsg() float64 { return r.CPUMs * 1000 / float64(r.Messages) } // µs

func publish(base string, n int) error {
	resp, err := http.Post(base+"/bench/publish?n="+strconv.Itoa(n), "text/plain", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var failed int
	_, _ = fmt.Fscan(resp.Body, &failed)
	if failed != 0 {
		return fmt.Errorf("%d of %d sends failed", failed, n)
	}
	return nil
}

func token(ctx context.Context, sdk *webpubsub.Client, user string) (string, error) {
	tok, err := sdk.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: user, Groups: []string{group}})
	if err != nil {
		return "", err
	}
	return tok.URL, nil
}

// receiveGo runs one wsclient receive round.
func receiveGo(ctx context.Context, base, url string, n int) (result, error) {
	c, err := wsclient.New(url, &wsclient.Options{ReceiveQueue: 4096})
	if err != nil {
		return result{}, err
	}
	if err := c.Start(ctx); err != nil {
		return result{}, err
	}
	defer c.Stop()
	errc := make(chan error, 1)
	go func() { errc <- publish(base, n) }()
	var first time.Time
	var cpu0 time.Duration
	var ms0, ms1 runtime.MemStats
	for i := range n {
		m, err := c.Receive(ctx)
		if err != nil {
			return result{}, fmt.Errorf("after %d messages: %w", i, err)
		}
		_ = m
		if i == 0 {
			first, cpu0 = time.Now(), cpu()
			runtime.ReadMemStats(&ms0)
		}
	}
	d, used := time.Since(first), cpu()-cpu0
	runtime.ReadMemStats(&ms1)
	if err := <-errc; err != nil {
		return result{}, err
	}
	return result{Messages: n - 1, Seconds: d.Seconds(), CPUMs: float64(used) / 1e6, Allocs: float64(ms1.Mallocs-ms0.Mallocs) / float64(n-1)}, nil
}

// receiveJS runs one round of @azure/web-pubsub-client in Node.js.
func receiveJS(ctx context.Context, dir, base, url string, n int) (result, error) {
	cmd := exec.CommandContext(ctx, "node", "client-receive.mjs", url, strconv.Itoa(n))
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() { _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		return result{}, fmt.Errorf("node did not get ready: %q", sc.Text())
	}
	errc := make(chan error, 1)
	go func() { errc <- publish(base, n) }()
	if !sc.Scan() {
		return result{}, errors.New("node ended without a result")
	}
	var r result
	if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
		return result{}, fmt.Errorf("node printed %q", sc.Text())
	}
	return r, <-errc
}

func run(n, rounds, idle int, jsDir string) error {
	_, _ = proc.RaiseFileLimit()
	ch, err := proc.Start("-serve")
	if err != nil {
		return err
	}
	defer ch.Stop()
	sdk, err := webpubsub.NewClientFromConnectionString(connString(ch.URL), hub)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	js := ""
	if _, err := exec.LookPath("node"); err == nil {
		if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "@azure", "web-pubsub-client")); err == nil {
			js = jsDir
		}
	}
	if js == "" {
		fmt.Printf("(the JavaScript side is skipped: run npm ci in %s and install Node.js)\n", jsDir)
	}
	fmt.Printf("receive: %d group messages per round, %d rounds, GOMAXPROCS %d, %d CPUs\n", n, rounds, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("%-28s %12s %14s %12s\n", "client", "msgs/s", "CPU µs/msg", "allocs/msg")
	var goBest, jsBest result
	for r := range rounds {
		u, err := token(ctx, sdk, "go-"+strconv.Itoa(r))
		if err != nil {
			return err
		}
		g, err := receiveGo(ctx, ch.URL, u, n)
		if err != nil {
			return fmt.Errorf("wsclient: %w", err)
		}
		fmt.Printf("%-28s %12.0f %14.2f %12.1f\n", "wsclient", g.rate(), g.cpuPerMsg(), g.Allocs)
		if g.rate() > goBest.rate() || goBest.Messages == 0 {
			goBest = g
		}
		if js == "" {
			continue
		}
		u, err = token(ctx, sdk, "js-"+strconv.Itoa(r))
		if err != nil {
			return err
		}
		j, err := receiveJS(ctx, js, ch.URL, u, n)
		if err != nil {
			return fmt.Errorf("@azure/web-pubsub-client: %w", err)
		}
		fmt.Printf("%-28s %12.0f %14.2f %12s\n", "@azure/web-pubsub-client", j.rate(), j.cpuPerMsg(), "-")
		if j.rate() > jsBest.rate() || jsBest.Messages == 0 {
			jsBest = j
		}
	}
	if jsBest.Messages > 0 {
		fmt.Printf("best rounds: wsclient %.1fx the messages per second, %.2fx the CPU per message of @azure/web-pubsub-client\n",
			goBest.rate()/jsBest.rate(), goBest.cpuPerMsg()/jsBest.cpuPerMsg())
	}
	if idle > 0 {
		return idleConns(ctx, sdk, idle)
	}
	return nil
}

// idleConns opens idle connections and reports the RSS they cost.
func idleConns(ctx context.Context, sdk *webpubsub.Client, n int) error {
	u, err := token(ctx, sdk, "idle")
	if err != nil {
		return err
	}
	runtime.GC()
	before, err := proc.RSS(os.Getpid())
	if err != nil {
		return err
	}
	var hs0 runtime.MemStats
	runtime.ReadMemStats(&hs0)
	clients := make([]*wsclient.Client, 0, n)
	defer func() {
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Go(c.Stop)
		}
		wg.Wait()
	}()
	began := time.Now()
	for range n {
		c, err := wsclient.New(u, nil)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = c.Start(sctx)
		cancel()
		if err != nil {
			return fmt.Errorf("connection %d: %w", len(clients), err)
		}
		clients = append(clients, c)
	}
	took := time.Since(began)
	time.Sleep(2 * time.Second) // let the connections settle
	runtime.GC()
	after, err := proc.RSS(os.Getpid())
	if err != nil {
		return err
	}
	var hs1 runtime.MemStats
	runtime.ReadMemStats(&hs1)
	fmt.Printf("idle: %d wsclient connections opened in %s; RSS %.1f -> %.1f MiB: %.1f KiB per connection (heap %.1f KiB, goroutines %d)\n",
		n, took.Round(time.Millisecond), float64(before)/(1<<20), float64(after)/(1<<20), float64(after-before)/1024/float64(n),
		float64(hs1.HeapInuse-hs0.HeapInuse)/1024/float64(n), runtime.NumGoroutine())
	return nil
}
