package webpubsub

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		in   string
		want ConnectionString
	}{
		{"Endpoint=https://x.webpubsub.azure.com;AccessKey=k;Version=1.0;", ConnectionString{"https://x.webpubsub.azure.com", "k", "1.0"}},
		{"endpoint=https://x.webpubsub.azure.com/;accesskey=k", ConnectionString{"https://x.webpubsub.azure.com", "k", ""}},
		{" ENDPOINT = https://x.com/base/ ; ACCESSKEY = k= ;;", ConnectionString{"https://x.com/base", "k=", ""}},
		{"Endpoint=http://localhost;Port=8888;AccessKey=k", ConnectionString{"http://localhost:8888", "k", ""}},
		{"Endpoint=http://localhost:8080;Port=9090;AccessKey=k", ConnectionString{"http://localhost:9090", "k", ""}},
		{"Endpoint=http://localhost:8080;AccessKey=k;ClientEndpoint=http://other;Foo=bar", ConnectionString{"http://localhost:8080", "k", ""}},
		{"Endpoint=HTTPS://x.com/p/q/;AccessKey=k", ConnectionString{"https://x.com/p/q", "k", ""}},
		{"Endpoint=http://[::1]:80;Port=81;AccessKey=k", ConnectionString{"http://[::1]:81", "k", ""}},
	}
	for _, tt := range tests {
		got, err := ParseConnectionString(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseConnectionStringErrors(t *testing.T) {
	// The secret has the characters that need escaping in URLs.
	const secret = "S3cretKey+Value/xyz="
	tests := []struct{ in, wantMsg string }{
		{"", "Endpoint is missing"},
		{"AccessKey=" + secret, "Endpoint is missing"},
		{"Endpoint=https://x.com", "AccessKey is missing"},
		{"Endpoint=https://x.com;AccessKey=", "AccessKey is missing"},
		{"Endpoint=https://x.com;AccessKey=" + secret + ";garbage", "segment 3 is not Key=Value"},
		{"Endpoint=https://x.com;AccessKey=" + secret + ";S3cretNoEquals", "segment 3 is not Key=Value"},
		{"Endpoint=https://x.com;AccessKey=" + secret + ";=v", "segment 3 is not Key=Value"},
		{"Endpoint=https://x.com;AccessKey=" + secret + ";accesskey=other", "segment 3 repeats the key of segment 2 (AccessKey)"},
		{"Endpoint=https://x.com;endpoint=https://y.com;AccessKey=" + secret, "segment 2 repeats the key of segment 1 (Endpoint)"},
		{"Endpoint=https://x.com;AccessKey=k;" + secret + "=1;" + secret + "=2", "(an unknown key)"},
		{"Endpoint=x.com;AccessKey=" + secret, "Endpoint has no scheme"},
		{"Endpoint=ftp://x.com;AccessKey=" + secret, "scheme other than http or https"},
		{"Endpoint=https://x.com;Port=0;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com;Port=65536;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com;Port=abc;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com:99999;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com/?a=b;AccessKey=" + secret, "query or fragment"},
		{"Endpoint=https://u:pw@x.com;AccessKey=" + secret, "user info"},
		{"Endpoint=https://S3cretKeyValue@x.com;AccessKey=" + secret, "user info"},
		// Issue 12, defect 7: a key pasted into the wrong field.
		{"Endpoint=" + secret + ";AccessKey=" + secret, "Endpoint has no scheme"},
		{"Endpoint=ftp://" + secret + ";AccessKey=" + secret, "scheme other than http or https"},
		{"Endpoint=" + secret + "://x.com;AccessKey=" + secret, "scheme other than http or https"},
		{"Endpoint=https://x.com;Port=" + secret + ";AccessKey=" + secret, "Port must be a number"},
		{"Endpoint=https://myhost:" + secret + ";AccessKey=" + secret, "port must be a number"},
		{"Endpoint=https://myhost/" + secret + "?q=1;AccessKey=" + secret, "query or fragment"},
		{"Endpoint=https://myhost/" + secret + "#f;AccessKey=" + secret, "query or fragment"},
		{"Endpoint=https://myhost/%zz" + secret + ";AccessKey=" + secret, "invalid %-escape"},
		{"Endpoint=https://[" + secret + "];AccessKey=" + secret, "Endpoint is not a valid URL"},
		{"Endpoint=https://[" + secret + ";AccessKey=" + secret, "Endpoint is not a valid URL"},
		{"Endpoint=https://my host" + secret + ";AccessKey=" + secret, "Endpoint is not a valid URL"},
		{"Endpoint=https://;AccessKey=" + secret, "Endpoint has no host"},
		{"Endpoint=https://:443;AccessKey=" + secret, "Endpoint has no host"},
	}
	for _, tt := range tests {
		_, err := ParseConnectionString(tt.in)
		if err == nil {
			t.Errorf("%q: no error", tt.in)
			continue
		}
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %v does not wrap ErrInvalidArgument", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("%q: error %q does not say %q", tt.in, err, tt.wantMsg)
		}
		if !strings.HasPrefix(err.Error(), "webpubsub: invalid argument: connection string: ") {
			t.Errorf("%q: error %q does not start with the one prefix of connection string errors", tt.in, err)
		}
		for _, part := range []string{secret, "S3cret", "pw", "%zz", url.QueryEscape(secret), "x.com", "myhost"} {
			if strings.Contains(fmt.Sprintf("%v|%+v|%#v", err, err, err), part) {
				t.Errorf("%q: error quotes a value (%q): %v", tt.in, part, err)
			}
		}
		// The same value as an endpoint of the constructors.
		if ep, ok := strings.CutPrefix(strings.Split(tt.in, ";")[0], "Endpoint="); ok {
			key, _ := NewKeyCredential(secret)
			_, err1 := NewClientWithKey(ep, "hub", key)
			_, err2 := NewClient(ep, "hub", &fakeCredential{})
			_, err3 := NewClientWithKey("https://x.com", "hub", key, WithReverseProxy(ep))
			for _, err := range []error{err1, err2, err3} {
				if err != nil && strings.Contains(fmt.Sprintf("%v|%+v|%#v", err, err, err), "S3cret") {
					t.Errorf("%q: constructor error quotes the value: %v", ep, err)
				}
			}
		}
	}
}

func TestConnectionStringNeverPrintsKey(t *testing.T) {
	cs, err := ParseConnectionString("Endpoint=https://x.com;AccessKey=TopSecret;Version=1.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{cs.String(), cs.GoString(), fmt.Sprint(cs), fmt.Sprintf("%v %+v %#v %s %q", cs, cs, cs, cs, cs), fmt.Sprintf("%v", &cs)} {
		if strings.Contains(s, "TopSecret") {
			t.Errorf("printed key: %s", s)
		}
		if !strings.Contains(s, "https://x.com") {
			t.Errorf("endpoint missing: %s", s)
		}
	}
}

func TestKeyCredential(t *testing.T) {
	if _, err := NewKeyCredential(""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty key: %v", err)
	}
	k, err := NewKeyCredential("first-key")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{k.String(), k.GoString(), fmt.Sprintf("%v %+v %#v %s %d", k, k, k, k, k)} {
		if strings.Contains(s, "first-key") {
			t.Errorf("printed key: %s", s)
		}
	}
	if err := k.Update(""); !errors.Is(err, ErrInvalidArgument) || k.secret().key != "first-key" {
		t.Errorf("Update(\"\") = %v and changed the key", err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				if j%2 == 0 {
					_ = k.Update(fmt.Sprintf("key-%d-%d", i, j))
				} else if s := k.secret(); string(s.bytes) != s.key {
					t.Error("torn key")
				}
			}
		})
	}
	wg.Wait()
}
