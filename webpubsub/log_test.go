package webpubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoggingEachTry(t *testing.T) {
	f := newFakeService(t, "")
	var buf bytes.Buffer
	c := newTestClient(t, f, WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	statusSequence(f, nil, 503)
	if err := c.AddUserToGroup(context.Background(), "g", "u"); err != nil {
		t.Fatal(err)
	}
	f.take()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "time")
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines: %s", len(lines), buf.String())
	}
	u := f.url() + "/api/hubs/chat/users/u/groups/g?api-version=" + APIVersion
	first, second := lines[0], lines[1]
	if first["level"] != "WARN" || first["operation"] != "AddUserToGroup" || first["method"] != "PUT" || first["url"] != u ||
		first["status"] != float64(503) || first["attempt"] != float64(1) || first["retry_in"] == nil || first["duration"] == nil {
		t.Errorf("first try: %v", first)
	}
	if second["level"] != "INFO" || second["status"] != float64(200) || second["attempt"] != float64(2) || second["retry_in"] != nil {
		t.Errorf("second try: %v", second)
	}

	// A logger that filters out INFO sees only the failures.
	buf.Reset()
	c = newTestClient(t, f, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	_ = c.CheckHealth(context.Background())
	f.take()
	if buf.Len() != 0 {
		t.Errorf("INFO logged at WARN level: %s", buf.String())
	}
	// Nil logger: nothing, no panic.
	c = newTestClient(t, f, WithLogger(nil))
	if err := c.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.take()
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("wss://user:pw@h/client/hubs/x?access_token=eyJa.eyJb.c&Sig=s&api-version=1&id=eyJq.eyJr.s#frag")
	got := redactURL(u)
	for _, secret := range []string{"pw", "eyJ", "Sig=s", "frag"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q contains %q", got, secret)
		}
	}
	if !strings.Contains(got, "api-version=1") || !strings.Contains(got, "access_token=REDACTED") {
		t.Errorf("redacted too much: %q", got)
	}
}

// TestSecretsNeverLeak drives error paths and logging with a key-signed
// client and an Entra client, and checks every error text and log line for
// the access key and every token the client used or received.
func TestSecretsNeverLeak(t *testing.T) {
	const entraToken = "entra-token-1"
	f := newFakeService(t, "")
	f.key = ""
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keyClient := newTestClient(t, f, WithLogger(logger))
	entra, err := NewClient(f.url(), "chat", &fakeCredential{lifetime: time.Hour}, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	entra.pipe.sleep = keyClient.pipe.sleep
	var issuedMu sync.Mutex
	var issued []string
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		issuedMu.Lock()
		issued = append(issued, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		issuedMu.Unlock()
		w.Header().Set("x-ms-error-code", "Denied")
		w.WriteHeader(http.StatusUnauthorized)
		// Echo the credentials back, as a misbehaving proxy might (the key
		// only to the client that holds it).
		fmt.Fprintf(w, "bad auth %s", r.Header.Get("Authorization"))
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer eyJ") {
			fmt.Fprintf(w, " key %s", testKey)
		}
	})
	ctx := context.Background()
	var errs []error
	for _, c := range []*Client{keyClient, entra} {
		errs = append(errs,
			c.SendToAll(ctx, Text("x"), nil),
			c.AddUserToGroup(ctx, "g", "u"),
			c.CheckHealth(ctx),
		)
		_, err := c.ConnectionExists(ctx, "c")
		errs = append(errs, err)
		for _, err := range c.ListConnectionsInGroup(ctx, "g", nil) {
			errs = append(errs, err)
		}
	}
	_, err = entra.ClientAccessToken(ctx, nil)
	errs = append(errs, err)
	tok, err := keyClient.ClientAccessToken(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Transport failures and invalid arguments.
	dead, _ := NewClientFromConnectionString("Endpoint=http://"+closedAddr(t)+";AccessKey="+testKey, "chat", WithLogger(logger), WithRetry(RetryOptions{MaxRetries: -1}))
	errs = append(errs, dead.SendToAll(ctx, Text("x"), nil))
	_, err = ParseConnectionString("Endpoint=nope;AccessKey=" + testKey)
	errs = append(errs, err)
	_, err = NewClientFromConnectionString("Endpoint=https://x;AccessKey="+testKey+";AccessKey=again", "chat")
	errs = append(errs, err)
	f.take()

	issuedMu.Lock()
	defer issuedMu.Unlock()
	secrets := append([]string{testKey, entraToken, tok.Token, url.QueryEscape(tok.Token)}, issued...)
	var texts []string
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error on every path")
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		var re *ResponseError
		if errors.As(err, &re) {
			texts = append(texts, re.Message)
		}
	}
	texts = append(texts, logs.String(), fmt.Sprint(tok), fmt.Sprintf("%#v", tok), keyClient.pipe.userAgent)
	if len(issued) < 10 || logs.Len() == 0 {
		t.Fatalf("test did not exercise enough: %d tokens, %d bytes of logs", len(issued), logs.Len())
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("secret %.12s... leaked in %q", s, text)
			}
		}
	}
}
