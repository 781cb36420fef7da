package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// officialRelPath is where the official Swagger document sits relative to a
// directory beside the repository: CI and the dev machine put shared/ next to
// the clone.
const officialRelPath = "shared/reference/webpubsub-2024-12-01.json"

// findOfficial looks for shared/reference/webpubsub-2024-12-01.json in every
// directory above the module root, nearest first.
func findOfficial(t *testing.T) (official, ours string) {
	t.Helper()
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ours = filepath.Join(root, "api", "webpubsub.yaml")
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, officialRelPath)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, ours
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("look for the official document: %v", err)
		}
		if filepath.Dir(dir) == dir {
			return "", ours
		}
	}
}

// TestDriftAgainstOfficialSwagger fails when api/webpubsub.yaml and the
// official 2024-12-01 Swagger document differ in a way known.go does not
// declare, or when a declared difference no longer occurs.
func TestDriftAgainstOfficialSwagger(t *testing.T) {
	officialPath, oursPath := findOfficial(t)
	if officialPath == "" {
		t.Skipf("no %s beside the repository (searched every directory above the module root); "+
			"put a copy of shared/ next to the clone to run the drift check", officialRelPath)
	}
	official, err := loadSwagger2(officialPath)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := loadOpenAPI3(context.Background(), oursPath)
	if err != nil {
		t.Fatal(err)
	}
	c := compare(official, ours)
	t.Logf("%s vs %s: %s", officialPath, oursPath, matchedLine(c))
	if c.Matched != 25 || c.OfficialOps != 25 || c.OurOps != 25 {
		t.Errorf("want all 25 operations on both sides matched, got %s", matchedLine(c))
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
