package webpubsub

import (
	"slices"
	"testing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// TestAPIVersionIsTheWireVersion: APIVersion is written as a literal so
// that go doc shows its value; it must be the one api-version of the module
// (internal/wire, checked against api/webpubsub.yaml by internal/specdiff).
func TestAPIVersionIsTheWireVersion(t *testing.T) {
	if APIVersion != wire.APIVersion {
		t.Errorf("webpubsub.APIVersion = %q, internal/wire.APIVersion = %q: change the literal in client.go (docs/regenerating.md)", APIVersion, wire.APIVersion)
	}
	want := wire.APIVersions()
	slices.Reverse(want)
	if !slices.Equal(supportedAPIVersions, want) {
		t.Errorf("supportedAPIVersions = %v, want wire.APIVersions() newest first: %v", supportedAPIVersions, want)
	}
	if supportedAPIVersions[0] != APIVersion {
		t.Errorf("the newest supported api-version is %q, want the default %q", supportedAPIVersions[0], APIVersion)
	}
}
