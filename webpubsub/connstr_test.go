package webpubsub

import (
	"errors"
	"fmt"
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
	const secret = "S3cretKeyValue"
	tests := []struct{ in, wantMsg string }{
		{"", "Endpoint is missing"},
		{"AccessKey=" + secret, "Endpoint is missing"},
		{"Endpoint=https://x.com", "AccessKey is missing"},
		{"Endpoint=https://x.com;AccessKey=", "AccessKey is missing"},
		{"Endpoint=https://x.com;AccessKey=" + secret + ";garbage", "segment 3 is not Key=Value"},
		{"Endpoint=https://x.com;AccessKey=" + secret + ";=v", "segment 3 is not Key=Value"},
		{"Endpoint=https://x.com;AccessKey=" + secret + ";accesskey=other", `key "accesskey" appears more than once`},
		{"Endpoint=https://x.com;endpoint=https://y.com;AccessKey=" + secret, "appears more than once"},
		{"Endpoint=x.com;AccessKey=" + secret, "absolute http:// or https:// URL"},
		{"Endpoint=ftp://x.com;AccessKey=" + secret, "absolute http:// or https:// URL"},
		{"Endpoint=https://x.com;Port=0;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com;Port=65536;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com;Port=abc;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com:99999;AccessKey=" + secret, "from 1 to 65535"},
		{"Endpoint=https://x.com/?a=b;AccessKey=" + secret, "query or fragment"},
		{"Endpoint=https://u:pw@x.com;AccessKey=" + secret, "user info"},
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
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: error reveals a secret: %v", tt.in, err)
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
