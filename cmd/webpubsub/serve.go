package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/webpubsub-go/sdk/internal/emulator"
)

// serveConfig is the configuration file of serve (JSON). Flags given on the
// command line win over it.
type serveConfig struct {
	// Address is the interface to listen on, e.g. "127.0.0.1" or "0.0.0.0".
	Address string `json:"address"`
	// Port to listen on; 0 picks a free one.
	Port *int `json:"port"`
	// AccessKeys sign and verify tokens: the primary, then the secondary.
	AccessKeys []string `json:"accessKeys"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"logLevel"`
	// EventHandlers is the emulator's list of event handler settings:
	// [{"hub", "urlTemplate", "userEventPattern", "systemEvents"}], read by
	// emulator.ParseUpstreamConfig.
	EventHandlers json.RawMessage `json:"eventHandlers"`
	// AllowEntraTokens makes the REST API also accept Microsoft Entra ID
	// bearer tokens, unverified (see --allow-entra).
	AllowEntraTokens bool `json:"allowEntraTokens"`
	// ReliableBufferLimit is how many unacknowledged messages a reliable
	// client may have before its connection ends (see
	// --reliable-buffer-limit); nil keeps the service's 1,000.
	ReliableBufferLimit *int `json:"reliableBufferLimit"`
}

const (
	defaultServeAddress = "127.0.0.1"
	defaultServePort    = 8080
)

func serveCommand() *command {
	return &command{
		name:        "serve",
		longRunning: true,
		summary:     "run a local Web PubSub service (the emulator)",
		details: `Run the local Web PubSub service: the REST API and the WebSocket client
endpoints of every hub, in memory. On start it prints its connection string
on stdout; logs go to stderr. Ctrl-C stops it cleanly.

Without --access-key it uses the well-known key of the official emulator,
so connection strings written for one work with the other.

--event-handler sends a hub's client events to your app as signed
CloudEvents, as the service does (repeatable). HUB=URL sends the user
events; the long form also chooses system events (connect, connected,
disconnected) and which user events:
  hub=chat;url=http://localhost:3000/eventhandler/{event};user=*;system=connect,connected,disconnected
{event} and {hub} in the URL are replaced; the URL must pass the
abuse-protection handshake (OPTIONS) first. The connect event can accept,
reshape or reject a client; a user event's reply goes back to the client.

--config reads a JSON file; flags given on the command line win over it:
  {"address": "127.0.0.1", "port": 8080, "accessKeys": ["<key>"], "logLevel": "info",
   "reliableBufferLimit": 1000,
   "eventHandlers": [{"hub": "chat", "urlTemplate": "http://localhost:3000/eventhandler/{event}",
                      "userEventPattern": "*", "systemEvents": ["connect", "disconnected"]}]}

--reliable-buffer-limit raises (or lowers) the 1,000 unacknowledged
messages after which a reliable client's connection ends (close code 1008),
as on the service; tests that burst more than that within the client's
one-second ack interval raise it. The byte limit (16 MiB) grows with it.

--allow-entra makes the REST API also accept Microsoft Entra ID bearer
tokens (audience https://webpubsub.azure.com), so an app that builds its
client with an azcore.TokenCredential runs against the emulator. Their
signatures are not verified: use it only on your own machine.

At --log-level info every REST request and client connection is logged;
debug adds connection ids, protocol details and every event delivered to an
event handler. Tokens and keys are never logged.

Examples:
  webpubsub serve
  webpubsub serve --port 18080 --log-level debug
  webpubsub serve --address 0.0.0.0 --access-key "$MY_KEY"
  webpubsub serve --event-handler 'chat=http://localhost:3000/eventhandler/{event}'
  webpubsub serve --event-handler 'hub=chat;url=http://localhost:3000/eh;system=connect,disconnected'
  webpubsub serve --allow-entra
  webpubsub serve --reliable-buffer-limit 10000
  webpubsub serve --config emulator.json`,
		setup: func(fs *flag.FlagSet) runFunc {
			address := fs.String("address", defaultServeAddress, "`address` to listen on (0.0.0.0 for every interface)")
			port := fs.Int("port", defaultServePort, "`port` to listen on (0 picks a free one)")
			var keys stringList
			fs.Var(&keys, "access-key", "access `key` that signs tokens; repeat for a secondary key (default: the emulator's well-known key)")
			var handlers stringList
			fs.Var(&handlers, "event-handler", "event handler `setting`: HUB=URL, or hub=H;url=URL;user=*;system=connect,connected,disconnected; repeatable")
			configPath := fs.String("config", "", "read settings from this JSON `file`")
			allowEntra := fs.Bool("allow-entra", false, "also accept Microsoft Entra ID bearer tokens on the REST API, without verifying them")
			bufferLimit := fs.Int("reliable-buffer-limit", emulator.DefaultBufferMessages, "unacknowledged `messages` a reliable client may have before its connection ends")
			return func(ctx context.Context, inv *invocation, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				cfg := serveConfig{}
				if *configPath != "" {
					var err error
					if cfg, err = readServeConfig(*configPath); err != nil {
						return err
					}
				}
				given := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
				if given["address"] || cfg.Address == "" {
					cfg.Address = *address
				}
				if given["port"] || cfg.Port == nil {
					cfg.Port = port
				}
				if given["access-key"] || len(cfg.AccessKeys) == 0 {
					cfg.AccessKeys = keys
				}
				if given["allow-entra"] || !cfg.AllowEntraTokens {
					cfg.AllowEntraTokens = *allowEntra
				}
				if given["reliable-buffer-limit"] || cfg.ReliableBufferLimit == nil {
					cfg.ReliableBufferLimit = bufferLimit
				}
				if *cfg.ReliableBufferLimit < 1 {
					return usagef("reliable buffer limit %d: give at least 1 message (the service's limit is %d)", *cfg.ReliableBufferLimit, emulator.DefaultBufferMessages)
				}
				if inv.g.logLevel == "" {
					inv.g.logLevel = cfg.LogLevel
				}
				if *cfg.Port < 0 || *cfg.Port > 65535 {
					return usagef("port %d: choose 0 to 65535", *cfg.Port)
				}
				for _, k := range cfg.AccessKeys {
					if k == "" {
						return usagef("an access key is empty")
					}
				}
				// The first setting that matches an event is used: the
				// flags' settings come first, so they win over the file's.
				var upstream []emulator.UpstreamSetting
				for _, spec := range handlers {
					setting, err := emulator.ParseUpstreamSetting(spec)
					if err != nil {
						return usagef("--event-handler: %v", err)
					}
					upstream = append(upstream, setting)
				}
				if len(cfg.EventHandlers) > 0 {
					settings, err := emulator.ParseUpstreamConfig([]byte(`{"eventHandlers":` + string(cfg.EventHandlers) + `}`))
					if err != nil {
						return usagef("--config %s: %v", *configPath, err)
					}
					upstream = append(upstream, settings...)
				}
				logger, err := inv.logger(slog.LevelInfo)
				if err != nil {
					return err
				}
				return serve(ctx, inv, cfg, upstream, logger)
			}
		},
	}
}

func readServeConfig(path string) (serveConfig, error) {
	var cfg serveConfig
	f, err := os.Open(path)
	if err != nil {
		return cfg, usagef("--config: %v", unwrapPathError(err))
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, usagef("--config %s: %v (the file is JSON with address, port, accessKeys, logLevel, eventHandlers, allowEntraTokens and reliableBufferLimit)", path, err)
	}
	return cfg, nil
}

// serve runs the emulator until ctx ends.
func serve(ctx context.Context, inv *invocation, cfg serveConfig, upstream []emulator.UpstreamSetting, logger *slog.Logger) error {
	opts := []emulator.Option{emulator.WithLogger(logger), emulator.WithReliableBufferMessages(*cfg.ReliableBufferLimit)}
	if len(cfg.AccessKeys) > 0 {
		opts = append(opts, emulator.WithAccessKeys(cfg.AccessKeys...))
	}
	if len(upstream) > 0 {
		opts = append(opts, emulator.WithUpstream(upstream...))
	}
	if cfg.AllowEntraTokens {
		opts = append(opts, emulator.WithUnvalidatedEntraTokens(true))
	}
	e, err := emulator.New(opts...)
	if err != nil {
		return usagef("%v", err)
	}
	for _, u := range upstream {
		logger.Info("event handler", "setting", u.String())
	}
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(*cfg.Port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		_ = e.Close()
		return fmt.Errorf("cannot listen on %s: %w (is another server using the port? try --port 0)", addr, errors.Unwrap(err))
	}
	srv := &http.Server{
		Handler:           logRequests(logger, e, e.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	endpoint := "http://" + net.JoinHostPort(displayHost(cfg.Address), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	connStr := "Endpoint=" + endpoint + ";AccessKey=" + e.AccessKey() + ";Version=1.0;"
	if inv.jsonOutput() {
		if err := inv.printJSON(struct {
			Endpoint         string `json:"endpoint"`
			ConnectionString string `json:"connectionString"`
		}{endpoint, connStr}); err != nil {
			return err
		}
	} else {
		inv.printf("%s\n", connStr)
		fmt.Fprintf(inv.stderr, `Web PubSub emulator listening on %s; Ctrl-C stops it.
The line above is its connection string. In another shell:
  export %s='<the connection string>'
  export %s=chat
  webpubsub listen --user alice
`, endpoint, envConnectionString, envHub)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	logger.Info("shutting down")
	_ = e.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("server stopped: %w", serveErr)
	}
	return nil
}

// displayHost is the host a client on this machine uses to reach address.
func displayHost(address string) string {
	switch address {
	case "", "0.0.0.0", "::", "[::]":
		return "localhost"
	}
	return address
}

// logRequests logs every request: its operation, method, path (never the
// query, which may hold an access token), status and duration. A WebSocket
// client is logged when it connects and when it goes.
func logRequests(logger *slog.Logger, e *emulator.Emulator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, logger: logger, r: r}
		op := e.Operation(r)
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		if rec.status == http.StatusSwitchingProtocols {
			// The socket lives on after the handler returns: its
			// connection logs when the client goes (loggedConn).
			return
		}
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case rec.status == http.StatusNotFound && r.Method == http.MethodHead:
			// The answer "no" of an existence check, not a failure.
		case rec.status >= 400:
			level = slog.LevelWarn
		}
		if op == "" {
			op = "-"
		}
		logger.Log(r.Context(), level, "request", "operation", op, "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", d)
	})
}

// statusRecorder remembers the status a handler wrote. It passes Hijack
// through so that WebSocket upgrades work.
type statusRecorder struct {
	http.ResponseWriter
	status int
	logger *slog.Logger
	r      *http.Request
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	if code == http.StatusSwitchingProtocols {
		s.logger.Info("client connected", "path", s.r.URL.Path, "remote", s.r.RemoteAddr)
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController and WebSocket libraries reach the
// underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection to the WebSocket code, wrapped so that
// closing it logs that the client went.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &loggedConn{Conn: nc, logger: s.logger, path: s.r.URL.Path, remote: s.r.RemoteAddr, start: time.Now()}, brw, nil
}

// loggedConn is a client's hijacked connection; its first Close logs
// "client disconnected" with how long the client stayed.
type loggedConn struct {
	net.Conn
	logger       *slog.Logger
	path, remote string
	start        time.Time
	once         sync.Once
}

func (c *loggedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.logger.Info("client disconnected", "path", c.path, "remote", c.remote, "duration", time.Since(c.start).Round(time.Millisecond))
	})
	return err
}
