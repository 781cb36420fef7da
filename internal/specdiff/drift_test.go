package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// TestDriftAgainstOfficialFacts fails when api/webpubsub.yaml and the
// official Swagger document of its api-version, as recorded in the
// committed fact file api/official-facts.json, differ in a way known.go
// does not declare, or when a declared difference no longer occurs. It
// needs nothing outside the module, so it runs in every clone.
func TestDriftAgainstOfficialFacts(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	factsPath := filepath.Join(root, factsRelPath)
	official, _, err := loadOfficial(factsPath)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := loadOpenAPI3(context.Background(), filepath.Join(root, "api", "webpubsub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if official.Version != ours.Version {
		t.Fatalf("%s describes api-version %s but api/webpubsub.yaml %s: rewrite the fact file from the official %s "+
			"document with 'go run ./internal/specdiff -write OFFICIAL.json' (docs/regenerating.md)",
			factsRelPath, official.Version, ours.Version, ours.Version)
	}
	c := compare(official, ours)
	t.Logf("%s vs api/webpubsub.yaml: %s", factsRelPath, matchedLine(c))
	if n := len(official.Operations); c.Matched != n || c.OurOps != n {
		t.Errorf("want all %d operations of the official document matched and no other, got %s", n, matchedLine(c))
	}
	r := classify(c.Differences, knownDifferences)
	t.Logf("%d known differences", len(r.Known))
	for _, d := range r.Undeclared {
		t.Errorf("undeclared difference: %s", d)
	}
	for _, k := range r.Unused {
		t.Errorf("known difference no longer occurs, remove it from known.go: %s %s", k.Where, k.What)
	}
}

// TestFactFileMatchesOfficialBeside checks, where a copy of the official
// document of our api-version lies beside the clone
// (shared/reference/webpubsub-<version>.json in a parent directory, as on
// the dev machine and in CI), that the committed fact file is exactly what
// -write derives from it. Without the copy there is nothing to check it
// against; the drift test above still runs on the fact file.
func TestFactFileMatchesOfficialBeside(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, factsRelPath))
	if err != nil {
		t.Fatal(err)
	}
	facts, err := parseFacts(committed)
	if err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join("shared", "reference", "webpubsub-"+facts.Version+".json")
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		path := filepath.Join(dir, rel)
		official, raw, err := loadOfficial(path)
		switch {
		case err == nil:
			want, err := encodeFacts(official, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, committed) {
				t.Errorf("%s is not what %s derives; run 'go run ./internal/specdiff -write %s'", factsRelPath, path, path)
			}
			return
		case !errors.Is(err, os.ErrNotExist):
			t.Fatal(err)
		}
		if filepath.Dir(dir) == dir {
			t.Logf("no %s beside the clone: the fact file was checked by the drift test only", rel)
			return
		}
	}
}

// TestAPIVersionMatchesDocument: internal/wire holds the module's one
// api-version and list of versions; the version must be what
// api/webpubsub.yaml describes and the newest of the list.
func TestAPIVersionMatchesDocument(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := loadOpenAPI3(context.Background(), filepath.Join(root, "api", "webpubsub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if ours.Version != wire.APIVersion {
		t.Errorf("api/webpubsub.yaml describes api-version %s, internal/wire.APIVersion is %s (docs/regenerating.md)", ours.Version, wire.APIVersion)
	}
	versions := wire.APIVersions()
	if versions[len(versions)-1] != wire.APIVersion {
		t.Errorf("wire.APIVersions() = %v: the last must be wire.APIVersion %s", versions, wire.APIVersion)
	}
	for i := 1; i < len(versions); i++ {
		if newerSide(versions[i], versions[i-1]) != officialNewer {
			t.Errorf("wire.APIVersions() = %v: not oldest first without repeats at %s", versions, versions[i])
		}
	}
}
