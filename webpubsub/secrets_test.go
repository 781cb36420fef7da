package webpubsub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/webpubsub-go/sdk/internal/faultproxy"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// tokenCapture records the bearer token of every try.
type tokenCapture struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (c *tokenCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.seen = append(c.seen, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// TestSecretsNeverShown drives every error path of the client against the
// in-process service and the fault proxy (each retryable status, dropped
// and reset connections, truncated responses, a wrong key, invalid
// arguments), with Debug logging to a JSON and a text handler, and checks
// that no access key and no JWT the client sent or minted appears in any
// error text (all fmt verbs), log line, or fmt output of the client's
// values. Complements TestSecretsNeverLeak (package-internal, Entra).
func TestSecretsNeverShown(t *testing.T) {
	const key = "reliability-secret-key-0123456789ABCDEFGHIJ"
	const wrongKey = "wrong-secret-key-0123456789ABCDEFGHIJKLMNOP"
	srv := webpubsubtest.NewServer(t, webpubsubtest.WithAccessKey(key))
	p, err := faultproxy.New(strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var logs bytes.Buffer
	var logMu sync.Mutex
	w := writer(func(b []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(b) })
	capture := &tokenCapture{next: &http.Transport{DisableKeepAlives: true}}
	opts := func(l slog.Handler) []webpubsub.Option {
		return []webpubsub.Option{webpubsub.WithLogger(slog.New(l)), webpubsub.WithRetry(fastRetry),
			webpubsub.WithHTTPClient(&http.Client{Transport: capture})}
	}
	cs := "Endpoint=http://" + p.Addr() + ";AccessKey=" + key + ";Version=1.0;"
	jsonClient, err := webpubsub.NewClientFromConnectionString(cs, "hub", opts(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))...)
	if err != nil {
		t.Fatal(err)
	}
	textClient, _ := webpubsub.NewClientFromConnectionString(cs, "hub", opts(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))...)
	wrong, _ := webpubsub.NewClientFromConnectionString(strings.Replace(cs, key, wrongKey, 1), "hub", opts(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))...)

	ctx := context.Background()
	var errs []error
	calls := func(c *webpubsub.Client) {
		errs = append(errs, c.SendToAll(ctx, webpubsub.Text("x"), nil), c.AddUserToGroup(ctx, "g", "u"))
		_, err := c.ConnectionExists(ctx, "c")
		errs = append(errs, err)
		for _, err := range c.ListConnectionsInGroup(ctx, "g", nil) {
			errs = append(errs, err)
		}
	}
	for _, status := range []int{400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503, 504} {
		srv.InjectFault(webpubsubtest.Fault{Status: status, Count: 100})
		calls(jsonClient)
		srv.ClearFaults()
	}
	srv.InjectFault(webpubsubtest.Fault{Drop: true, Count: 100})
	calls(textClient)
	srv.ClearFaults()
	for _, m := range []faultproxy.Mode{faultproxy.ResetRequest, faultproxy.ResetResponse, faultproxy.Truncate} {
		p.Inject(faultproxy.Fault{Mode: m, Count: 100})
		calls(textClient)
		p.Clear()
	}
	p.Refuse()
	calls(jsonClient)
	_ = p.Accept()
	calls(wrong) // 401 from the service
	errs = append(errs, jsonClient.SendToUser(ctx, "", webpubsub.Text("x"), nil))
	_, err = webpubsub.NewClientFromConnectionString(cs+"AccessKey=again", "hub")
	errs = append(errs, err)
	_, err = webpubsub.NewClientFromConnectionString("Endpoint=ftp://x;AccessKey="+key, "hub")
	errs = append(errs, err)
	for _, bad := range []string{ // issue 12, defect 7: the key in the wrong field
		"Endpoint=" + key + ";AccessKey=" + key, "Endpoint=ftp://" + key + ";AccessKey=" + key,
		"Endpoint=https://h;Port=" + key + ";AccessKey=" + key, "Endpoint=https://h:" + key + ";AccessKey=" + key,
		"Endpoint=https://h/" + key + "?q=1;AccessKey=" + key, "Endpoint=https://h/%zz" + key + ";AccessKey=" + key,
		"Endpoint=https://[" + key + "];AccessKey=" + key, key,
	} {
		_, err = webpubsub.NewClientFromConnectionString(bad, "hub")
		errs = append(errs, err)
	}

	tok, err := jsonClient.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := webpubsub.ParseConnectionString(cs)
	cred, _ := webpubsub.NewKeyCredential(key)

	var texts []string
	nonNil := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		nonNil++
		texts = append(texts, err.Error(), fmt.Sprintf("%v|%+v|%#v|%q", err, err, err, err))
		var re *webpubsub.ResponseError
		if errors.As(err, &re) {
			texts = append(texts, re.Message, fmt.Sprintf("%+v", *re))
			var az *azcore.ResponseError
			if !errors.As(err, &az) {
				t.Fatalf("%v: errors.As into *azcore.ResponseError failed", err)
			}
			body, _ := io.ReadAll(az.RawResponse.Body)
			texts = append(texts, az.Error(), fmt.Sprintf("%+v|%#v|%v|%v", *az, az.RawResponse.Header, az.RawResponse.Request.URL, az.RawResponse.Request.Header), string(body))
		}
	}
	for _, v := range []any{jsonClient, jsonClient.Group("g"), tok, &tok, parsed, &parsed, cred, []any{tok, parsed, cred}} {
		texts = append(texts, fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", v, v, v, v, v, v))
	}
	logMu.Lock()
	texts = append(texts, logs.String())
	logLen := logs.Len()
	logMu.Unlock()

	capture.mu.Lock()
	secrets := append([]string{key, wrongKey, tok.Token, url.QueryEscape(tok.Token)}, capture.seen...)
	nTokens := len(capture.seen)
	capture.mu.Unlock()
	if nonNil < 40 || nTokens < 100 || logLen == 0 {
		t.Fatalf("too little exercised: %d errors, %d tokens, %d bytes of logs", nonNil, nTokens, logLen)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("secret %.12q… appears in %.400q", s, text)
			}
		}
	}
	for _, text := range texts {
		if strings.Contains(text, "eyJ") {
			t.Errorf("something like a JWT appears in %.400q", text)
		}
	}
	t.Logf("%d secrets (2 keys, %d per-try JWTs, a client token) checked against %d error values, %d bytes of Debug logs and the fmt output of 8 values", len(secrets), nTokens, nonNil, logLen)
}

type writer func([]byte) (int, error)

func (w writer) Write(b []byte) (int, error) { return w(b) }
