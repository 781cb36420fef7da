package doccheck

import (
	"fmt"
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
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

// TestLiteralsMatchInternal: the public packages write their constants as
// literals, so that go doc shows the values (Check insists); each must
// still equal the one definition in internal/wire or the emulator.
func TestLiteralsMatchInternal(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"webpubsub.APIVersion", webpubsub.APIVersion, wire.APIVersion20241201},
		{"eventhandler.DataText", eventhandler.DataText, wire.DataTypeText},
		{"eventhandler.DataJSON", eventhandler.DataJSON, wire.DataTypeJSON},
		{"eventhandler.DataBinary", eventhandler.DataBinary, wire.DataTypeBinary},
		{"webpubsubtest.DefaultAccessKey", webpubsubtest.DefaultAccessKey, emulator.DefaultAccessKey},
		{"webpubsubtest.SubprotocolJSON", webpubsubtest.SubprotocolJSON, wire.SubprotocolJSON},
		{"webpubsubtest.SubprotocolReliableJSON", webpubsubtest.SubprotocolReliableJSON, wire.SubprotocolJSONReliable},
		{"eventhandler.MQTTVersion311", eventhandler.MQTTVersion311, wire.MQTTProtocolVersion311},
		{"eventhandler.MQTTVersion5", eventhandler.MQTTVersion5, wire.MQTTProtocolVersion5},
		{"eventhandler.MQTT311UnacceptableProtocolVersion", eventhandler.MQTT311UnacceptableProtocolVersion, wire.MQTT311UnacceptableProtocolVersion},
		{"eventhandler.MQTT311IdentifierRejected", eventhandler.MQTT311IdentifierRejected, wire.MQTT311IdentifierRejected},
		{"eventhandler.MQTT311ServerUnavailable", eventhandler.MQTT311ServerUnavailable, wire.MQTT311ServerUnavailable},
		{"eventhandler.MQTT311BadUsernameOrPassword", eventhandler.MQTT311BadUsernameOrPassword, wire.MQTT311BadUsernameOrPassword},
		{"eventhandler.MQTT311NotAuthorized", eventhandler.MQTT311NotAuthorized, wire.MQTT311NotAuthorized},
		{"eventhandler.MQTT5UnspecifiedError", eventhandler.MQTT5UnspecifiedError, wire.MQTT5UnspecifiedError},
		{"eventhandler.MQTT5MalformedPacket", eventhandler.MQTT5MalformedPacket, wire.MQTT5MalformedPacket},
		{"eventhandler.MQTT5ProtocolError", eventhandler.MQTT5ProtocolError, wire.MQTT5ProtocolError},
		{"eventhandler.MQTT5ImplementationSpecificError", eventhandler.MQTT5ImplementationSpecificError, wire.MQTT5ImplementationSpecificError},
		{"eventhandler.MQTT5UnsupportedProtocolVersion", eventhandler.MQTT5UnsupportedProtocolVersion, wire.MQTT5UnsupportedProtocolVersion},
		{"eventhandler.MQTT5ClientIdentifierNotValid", eventhandler.MQTT5ClientIdentifierNotValid, wire.MQTT5ClientIdentifierNotValid},
		{"eventhandler.MQTT5BadUserNameOrPassword", eventhandler.MQTT5BadUserNameOrPassword, wire.MQTT5BadUserNameOrPassword},
		{"eventhandler.MQTT5NotAuthorized", eventhandler.MQTT5NotAuthorized, wire.MQTT5NotAuthorized},
		{"eventhandler.MQTT5ServerUnavailable", eventhandler.MQTT5ServerUnavailable, wire.MQTT5ServerUnavailable},
		{"eventhandler.MQTT5ServerBusy", eventhandler.MQTT5ServerBusy, wire.MQTT5ServerBusy},
		{"eventhandler.MQTT5Banned", eventhandler.MQTT5Banned, wire.MQTT5Banned},
		{"eventhandler.MQTT5BadAuthenticationMethod", eventhandler.MQTT5BadAuthenticationMethod, wire.MQTT5BadAuthenticationMethod},
		{"eventhandler.MQTT5TopicNameInvalid", eventhandler.MQTT5TopicNameInvalid, wire.MQTT5TopicNameInvalid},
		{"eventhandler.MQTT5PacketTooLarge", eventhandler.MQTT5PacketTooLarge, wire.MQTT5PacketTooLarge},
		{"eventhandler.MQTT5QuotaExceeded", eventhandler.MQTT5QuotaExceeded, wire.MQTT5QuotaExceeded},
		{"eventhandler.MQTT5PayloadFormatInvalid", eventhandler.MQTT5PayloadFormatInvalid, wire.MQTT5PayloadFormatInvalid},
		{"eventhandler.MQTT5RetainNotSupported", eventhandler.MQTT5RetainNotSupported, wire.MQTT5RetainNotSupported},
		{"eventhandler.MQTT5QoSNotSupported", eventhandler.MQTT5QoSNotSupported, wire.MQTT5QoSNotSupported},
		{"eventhandler.MQTT5UseAnotherServer", eventhandler.MQTT5UseAnotherServer, wire.MQTT5UseAnotherServer},
		{"eventhandler.MQTT5ServerMoved", eventhandler.MQTT5ServerMoved, wire.MQTT5ServerMoved},
		{"eventhandler.MQTT5ConnectionRateExceeded", eventhandler.MQTT5ConnectionRateExceeded, wire.MQTT5ConnectionRateExceeded},
		{"wsclient.ProtocolReliableJSON", wsclient.ProtocolReliableJSON, wire.SubprotocolJSONReliable},
		{"wsclient.ProtocolJSON", wsclient.ProtocolJSON, wire.SubprotocolJSON},
		{"wsclient.DataTypeJSON", wsclient.DataTypeJSON, wire.DataTypeJSON},
		{"wsclient.DataTypeText", wsclient.DataTypeText, wire.DataTypeText},
		{"wsclient.DataTypeBinary", wsclient.DataTypeBinary, wire.DataTypeBinary},
		{"wsclient.DataTypeProtobuf", wsclient.DataTypeProtobuf, wire.DataTypeProtobuf},
		{"wsclient.FromGroup", wsclient.FromGroup, wire.FromGroup},
		{"wsclient.FromServer", wsclient.FromServer, wire.FromServer},
	} {
		// Compare the printed values: the public constants have their
		// package's types, wire's are untyped.
		if got, want := fmt.Sprint(c.got), fmt.Sprint(c.want); got != want {
			t.Errorf("%s = %s, want %s", c.name, got, want)
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
