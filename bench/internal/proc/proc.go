// Package proc runs the benchmark harnesses' servers (the HTTP sink, the
// emulator) as child processes of the harness binary itself, so that their
// CPU, memory and allocations are never counted with the load generator's.
//
// The parent starts a child with Start; the child calls Serve, which
// prints the listening address on its first stdout line and returns when
// the parent closes the child's stdin (or the parent dies).
package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// addrPrefix starts the line a child prints when it is ready.
const addrPrefix = "LISTENING "

// Child is a running child server.
type Child struct {
	// URL is the child's base URL, e.g. http://127.0.0.1:41234.
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error
}

// Start runs this executable again with args (which must make it call
// Serve) and waits up to 30 s for it to report its address.
func Start(args ...string) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("proc: finding this executable to start a child: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("proc: starting %s %s: %w", exe, strings.Join(args, " "), err)
	}
	c := &Child{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), addrPrefix); ok {
				lines <- s
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.done <- cmd.Wait()
	}()
	select {
	case u := <-lines:
		c.URL = u
		return c, nil
	case err := <-c.done:
		return nil, fmt.Errorf("proc: the child %s ended before it listened: %v", strings.Join(args, " "), err)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("proc: the child did not report its address within 30 s")
	}
}

// PID returns the child's process id.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// RSS returns the child's resident set size in bytes (VmRSS).
func (c *Child) RSS() (int64, error) { return RSS(c.PID()) }

// Stop closes the child's stdin, waits up to 10 s for it to exit, and kills
// it after that.
func (c *Child) Stop() {
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// RSS returns the VmRSS of process pid in bytes, from /proc (Linux only).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("proc: reading the RSS of process %d (Linux /proc only): %w", pid, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb << 10, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("proc: no VmRSS line for process %d", pid)
}

// Serve serves h on a fresh 127.0.0.1 port, announces the address on
// stdout and returns when stdin reaches EOF (the parent closed it or died).
func Serve(h http.Handler) error {
	return serve(&http.Server{Handler: h}, "http", func(srv *http.Server, ln net.Listener) error { return srv.Serve(ln) })
}

// ServeTLS is Serve over TLS with srv (its Handler, Protocols, ConnState
// and so on as the caller set them) and the certificate in certFile and
// keyFile; it announces an https URL.
func ServeTLS(srv *http.Server, certFile, keyFile string) error {
	return serve(srv, "https", func(srv *http.Server, ln net.Listener) error { return srv.ServeTLS(ln, certFile, keyFile) })
}

func serve(srv *http.Server, scheme string, run func(*http.Server, net.Listener) error) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("proc: listen: %w", err)
	}
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = 10 * time.Second
	}
	errc := make(chan error, 1)
	go func() { errc <- run(srv, ln) }()
	fmt.Printf("%s%s://%s\n", addrPrefix, scheme, ln.Addr())
	stdinEOF := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdinEOF) }()
	select {
	case <-stdinEOF:
		_ = srv.Close()
		return nil
	case err := <-errc:
		return err
	}
}

// RaiseFileLimit raises the soft limit on open files to the hard limit and
// returns the new soft limit.
func RaiseFileLimit() (uint64, error) { return raiseFileLimit() }
