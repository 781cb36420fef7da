package webpubsub_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/odata"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// FuzzParseConnectionString: parsing never panics, every rejection wraps
// ErrInvalidArgument and never repeats the access key, and an accepted
// string has an absolute http(s) endpoint without query, user info or
// fragment, and a non-empty key.
func FuzzParseConnectionString(f *testing.F) {
	for _, s := range []string{
		"Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;",
		"endpoint=http://localhost;port=8080;accesskey=k",
		"Endpoint=https://x.com;AccessKey=k;AccessKey=k2",
		"Endpoint=https://u:p@x.com/?a=b#f;AccessKey=k",
		"Endpoint=https://x.com;Port=99999;AccessKey=k",
		"Endpoint = https://x.com/base/ ; AccessKey = a=b=c ;",
		";;;", "=", "AccessKey=", "Endpoint=ftp://x;AccessKey=k", "\x00Endpoint=https://x;AccessKey=\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := webpubsub.ParseConnectionString(s)
		if err != nil {
			if !errors.Is(err, webpubsub.ErrInvalidArgument) {
				t.Fatalf("error %v does not wrap ErrInvalidArgument", err)
			}
			key := accessKeyOf(s)
			if len(key) >= 4 && strings.Contains(err.Error(), key) {
				t.Fatalf("error %q repeats the access key %q", err, key)
			}
			return
		}
		if !strings.HasPrefix(cs.Endpoint, "http://") && !strings.HasPrefix(cs.Endpoint, "https://") {
			t.Fatalf("endpoint %q is not http(s)", cs.Endpoint)
		}
		if strings.ContainsAny(cs.Endpoint, "?#") || strings.Contains(strings.SplitN(cs.Endpoint, "/", 4)[2], "@") {
			t.Fatalf("endpoint %q has a query, fragment or user info", cs.Endpoint)
		}
		if cs.AccessKey == "" {
			t.Fatalf("accepted %q without a key", s)
		}
		for _, text := range []string{cs.String()} {
			if len(cs.AccessKey) >= 4 && strings.Contains(text, cs.AccessKey) {
				t.Fatalf("String() %q shows the key", text)
			}
		}
	})
}

// accessKeyOf finds the value of the last AccessKey= segment, as a test
// oracle for leaks.
func accessKeyOf(s string) string {
	key := ""
	for _, seg := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(seg, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "AccessKey") {
			key = strings.TrimSpace(v)
		}
	}
	return key
}

// FuzzFilter: whatever string a user supplies, Filter's output parses with
// the service's grammar (internal/odata) and the value stays inside its
// literal: the filter matches exactly the subject whose field equals it.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{"", "alice", "o'brien", "'", "''", "' or true or '", "') or (1 eq 1", "{}", "\x00\n\t", "日本", "\xff\xfe", strings.Repeat("'", 50)} {
		f.Add(s, "other", int64(3), 2.0)
	}
	f.Add("a", "b", int64(-1<<63), 1e300)
	f.Add("a", "b", int64(1<<62), -0.5)
	f.Fuzz(func(t *testing.T, user, group string, n int64, x float64) {
		cases := []struct {
			template string
			args     []any
			valid    bool
			match    odata.Subject
			miss     odata.Subject
		}{
			{"userId eq {}", []any{user}, utf8.ValidString(user), odata.Subject{UserID: user, HasUserID: true}, odata.Subject{UserID: user + "x", HasUserID: true}},
			{"{} in groups", []any{group}, utf8.ValidString(group), odata.Subject{Groups: []string{group}}, odata.Subject{Groups: []string{group + "x"}}},
			{"userId in {} and not({} in groups)", []any{[]string{user, "fixed"}, group}, utf8.ValidString(user) && utf8.ValidString(group),
				odata.Subject{UserID: user, HasUserID: true, Groups: []string{group + "x"}},
				odata.Subject{UserID: user, HasUserID: true, Groups: []string{group}}},
		}
		for _, tc := range cases {
			out, err := webpubsub.Filter(tc.template, tc.args...)
			if !tc.valid {
				if !errors.Is(err, webpubsub.ErrInvalidArgument) {
					t.Fatalf("Filter(%q, %q) with invalid UTF-8: %q, %v", tc.template, tc.args, out, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Filter(%q, %q): %v", tc.template, tc.args, err)
			}
			if len(out) > odata.MaxLength {
				continue // the service's length limit, not a meaning change
			}
			flt, err := odata.Parse(out)
			if err != nil {
				t.Fatalf("Filter(%q, %q) = %q, which does not parse: %v", tc.template, tc.args, out, err)
			}
			if !flt.Match(tc.match) || flt.Match(tc.miss) {
				t.Fatalf("Filter(%q, %q) = %q changed meaning: match %v, miss %v", tc.template, tc.args, out, flt.Match(tc.match), flt.Match(tc.miss))
			}
		}
		// Numbers: whatever Filter accepts parses as that integer.
		for _, v := range []any{n, x, uint64(n)} {
			out, err := webpubsub.Filter("length(userId) eq {}", v)
			if err != nil {
				if !errors.Is(err, webpubsub.ErrInvalidArgument) {
					t.Fatalf("Filter(%v): %v", v, err)
				}
				continue
			}
			if _, err := odata.Parse(out); err != nil {
				t.Fatalf("Filter(%v) = %q, which does not parse: %v", v, out, err)
			}
		}
	})
}
