package webpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// echoKey has the characters encoders escape: '+', '/' and '='.
const echoKey = "echo+Key/With=Specials0123456789+/abcdefXYZ="

// echoForms are the ways a service or proxy may re-encode an echoed
// secret.
var echoForms = []struct {
	name string
	enc  func(string) string
}{
	{"raw", func(s string) string { return s }},
	{"json", func(s string) string { b, _ := json.Marshal(s); return strings.Trim(string(b), `"`) }},
	{"json slash", func(s string) string { return strings.ReplaceAll(s, "/", `\/`) }},
	{"json unicode", func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r < 0x80 && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
				fmt.Fprintf(&b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
		return b.String()
	}},
	{"json unicode upper", func(s string) string { return strings.ReplaceAll(s, ".", `\u002E`) }},
	{"query", url.QueryEscape},
	{"path", url.PathEscape},
	{"query twice", func(s string) string { return url.QueryEscape(url.QueryEscape(s)) }},
	{"query lower hex", func(s string) string {
		return regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(url.QueryEscape(s), strings.ToLower)
	}},
}

// echoPlaces are where a hostile response puts the echoed text.
var echoPlaces = []struct {
	name  string
	write func(w http.ResponseWriter, echo string)
}{
	{"x-ms-error-code", func(w http.ResponseWriter, e string) {
		w.Header().Set("x-ms-error-code", "Bad"+e)
		w.WriteHeader(http.StatusForbidden)
	}},
	{"body code", func(w http.ResponseWriter, e string) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"code":"C%s"}`, e)
	}},
	{"body error code and message", func(w http.ResponseWriter, e string) {
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, `{"error":{"code":"%s","message":"you sent %s"}}`, e, e)
	}},
	{"body text", func(w http.ResponseWriter, e string) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "Authorization: %s", e)
	}},
	{"body at the excerpt bound", func(w http.ResponseWriter, e string) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, strings.Repeat("x", maxErrorBody-10)+e)
	}},
	{"headers", func(w http.ResponseWriter, e string) {
		w.Header().Set("X-Echo", e)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", token="`+e+`"`)
		w.Header().Set("Set-Cookie", "s="+e)
		w.WriteHeader(http.StatusUnauthorized)
	}},
}

// TestHostileEchoRedacted answers every request with the request's own
// Authorization value and the access key, in every place a response can
// carry text and in every encoding in echoForms, and checks that no form
// of any secret reaches Error(), %v, %+v, %#v, the fields, the headers or
// the *azcore.ResponseError view and its RawResponse. Issue 12, defect 6.
func TestHostileEchoRedacted(t *testing.T) {
	f := newFakeService(t, "")
	f.key = echoKey
	key, _ := NewKeyCredential(echoKey)
	keyClient, err := NewClientWithKey(f.url(), "chat", key, WithRetry(RetryOptions{MaxRetries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	entra, err := NewClient(f.url(), "chat", &fakeCredential{lifetime: time.Hour}, WithRetry(RetryOptions{MaxRetries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	f.key = ""
	var sent []string
	ctx := context.Background()
	var texts []string
	for _, form := range echoForms {
		for _, place := range echoPlaces {
			f.setHandler(func(w http.ResponseWriter, r *http.Request) {
				auth := r.Header.Get("Authorization")
				echo := form.enc(auth) + " " + form.enc(strings.TrimPrefix(auth, "Bearer "))
				if strings.HasPrefix(auth, "Bearer eyJ") { // the key only to the client that holds it
					echo += " " + form.enc(echoKey)
				}
				place.write(w, echo)
			})
			for _, c := range []*Client{keyClient, entra} {
				err := c.SendToAll(ctx, Text("x"), nil)
				var re *ResponseError
				if !errors.As(err, &re) {
					t.Fatalf("%s/%s: %v is not a *ResponseError", form.name, place.name, err)
				}
				var az *azcore.ResponseError
				if !errors.As(err, &az) {
					t.Fatalf("%s/%s: errors.As into *azcore.ResponseError failed", form.name, place.name)
				}
				if az.StatusCode != re.StatusCode || az.ErrorCode != re.ErrorCode || az.RawResponse == nil {
					t.Errorf("%s/%s: azcore view %d %q, want %d %q", form.name, place.name, az.StatusCode, az.ErrorCode, re.StatusCode, re.ErrorCode)
				}
				body, _ := io.ReadAll(az.RawResponse.Body)
				if string(body) != re.Message {
					t.Errorf("%s/%s: RawResponse body differs from Message", form.name, place.name)
				}
				if re.Header.Get("Set-Cookie") != "" || re.Header.Get("Www-Authenticate") != "" {
					t.Errorf("%s/%s: credential headers kept: %v", form.name, place.name, re.Header)
				}
				texts = append(texts, err.Error(), fmt.Sprintf("%v|%+v|%#v|%+v|%#v", err, err, err, *re, re.Header),
					az.Error(), fmt.Sprintf("%+v|%#v|%v|%v", *az, az.RawResponse.Header, az.RawResponse.Request.URL, az.RawResponse.Request.Header), string(body))
			}
		}
	}
	f.take()
	f.mu.Lock()
	sent = append(sent, f.auths...)
	f.mu.Unlock()
	if len(sent) != 2*len(echoForms)*len(echoPlaces) {
		t.Fatalf("%d requests, want %d", len(sent), 2*len(echoForms)*len(echoPlaces))
	}
	var secrets []string
	for _, s := range append(sent, echoKey) {
		s = strings.TrimPrefix(s, "Bearer ")
		for _, form := range echoForms {
			secrets = append(secrets, form.enc(s))
		}
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("secret %.16q… appears in %.300q", s, text)
			}
		}
		if strings.Contains(text, "eyJ") {
			t.Fatalf("something like a JWT appears in %.300q", text)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{`a \"quoted\" \\u002e path`, `a \"quoted\" \\u002e path`},
		{`slash \/ and \u0041`, `slash / and A`},
		{`newline \u000a kept, quote \u0022 kept`, `newline \u000a kept, quote \u0022 kept`},
		{"100%zz and 50% and %41", "100%zz and 50% and A"},
		{"tok eyJhbGciOiJIUzI1NiJ9\\u002eeyJhdWQiOiJ4In0\\u002esig end", "tok [REDACTED] end"},
		{"cut eyJhbGciOiJIUzI1NiJ9.eyJhd", "cut [REDACTED]"},
		{"url eyJhbGci%2EeyJhdWQ%252Esig", "url [REDACTED]"},
		{"key s3cret+key/value= here", "key [REDACTED] here"},
		{`key s3cret\u002bkey\/value\u003d here`, "key [REDACTED] here"},
		{"key s3cret%252Bkey%2Fvalue%3D", "key [REDACTED]"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tt := range tests {
		if got := redact(tt.in, []string{"s3cret+key/value=", "short"}); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
