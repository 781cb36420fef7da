package doccheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// TestLiteralsMatchInternal: the public packages write their constants as
// literals, so that go doc shows the values (Check insists); each must
// still equal the one definition in internal/wire or the emulator.
func TestLiteralsMatchInternal(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want string
	}{
		{"webpubsub.APIVersion", webpubsub.APIVersion, wire.APIVersion20241201},
		{"eventhandler.DataText", string(eventhandler.DataText), wire.DataTypeText},
		{"eventhandler.DataJSON", string(eventhandler.DataJSON), wire.DataTypeJSON},
		{"eventhandler.DataBinary", string(eventhandler.DataBinary), wire.DataTypeBinary},
		{"webpubsubtest.DefaultAccessKey", webpubsubtest.DefaultAccessKey, emulator.DefaultAccessKey},
		{"webpubsubtest.SubprotocolJSON", webpubsubtest.SubprotocolJSON, wire.SubprotocolJSON},
		{"webpubsubtest.SubprotocolReliableJSON", webpubsubtest.SubprotocolReliableJSON, wire.SubprotocolJSONReliable},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

// TestPublicPackages checks the packages users import.
func TestPublicPackages(t *testing.T) {
	for _, dir := range []string{"webpubsub", "webpubsub/eventhandler", "webpubsub/webpubsubtest", "webpubsub/wsclient"} {
		path := filepath.Join("..", "..", dir)
		if _, err := os.Stat(path); os.IsNotExist(err) && dir == "webpubsub/wsclient" {
			continue // not every branch has it yet
		}
		problems, err := Check(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s/%s", dir, p)
		}
	}
}

// TestCheck runs the checks on a package with one of each problem.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	src := `// Package bad is documented badly.
//
//  1. A step:
//     - folded into the paragraph
package bad

import "example.com/m/internal/wire"

func Undocumented() {}

// Documented is fine.
func Documented() {}

type hidden struct{}

func (hidden) Exported() {}

// T has fields.
type T struct {
	// A is documented.
	A int
	B int // B has a line comment.
	C int
	d int
	fmt.Stringer
}

// K shows the internal name.
const K = wire.Name

// L is a literal.
const L = "x"

var V = 1
`
	if err := os.WriteFile(filepath.Join(dir, "bad.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad_test.go"), []byte("package bad\n\nfunc Untested() {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`bad.go:1: the package comment has a list item that go doc folds into a paragraph: "- folded into the paragraph"`,
		"bad.go:9: Undocumented has no doc comment",
		"bad.go:23: field T.C has no comment",
		"bad.go:29: K = wire.…: go doc shows the name of an internal package, not the value; write the literal (and test that it equals the internal one)",
		"bad.go:34: V has no doc comment",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if _, err := Check(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("a directory without Go files: %v", err)
	}
	if strings.Contains(strings.Join(got, "\n"), "Untested") {
		t.Error("test files were checked")
	}
}
