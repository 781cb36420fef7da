package main

import (
	"bytes"
	"context"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// bumpVersion is the made-up api-version TestVersionBumpTouchesOnlyListedFiles
// moves a copy of the module to.
const bumpVersion = "2098-07-15" // not one the tests use as an unknown version

// bumpEdit is one step of docs/regenerating.md's walk, applied to one file.
type bumpEdit struct {
	file string
	edit func(t *testing.T, text string) string
}

// replaceOnce replaces old by new, failing when old does not occur exactly
// once: then the walk in docs/regenerating.md and this test need updating
// together.
func replaceOnce(t *testing.T, file, text, old, new string) string {
	t.Helper()
	if n := strings.Count(text, old); n != 1 {
		t.Fatalf("%s: %q occurs %d times, want once: update docs/regenerating.md's version bump and this test together", file, old, n)
	}
	return strings.Replace(text, old, new, 1)
}

// bumpEdits are steps 2, 3, 5 and 6 of "Moving to a new api-version" for a
// version with nothing new but its name.
func bumpEdits(old string) []bumpEdit {
	oldName := "APIVersion" + strings.ReplaceAll(old, "-", "")
	newName := "APIVersion" + strings.ReplaceAll(bumpVersion, "-", "")
	return []bumpEdit{
		{"api/webpubsub.yaml", func(t *testing.T, text string) string {
			text = replaceOnce(t, "api/webpubsub.yaml", text, `version: "`+old+`"`, `version: "`+bumpVersion+`"`)
			return strings.ReplaceAll(text, "api-version "+old, "api-version "+bumpVersion) // info.description
		}},
		{"api/official-facts.json", func(t *testing.T, text string) string {
			// What -write makes of the new official document: here the
			// current facts under the new version.
			doc, err := parseFacts([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			doc.Version = bumpVersion
			doc.Format = strings.TrimSuffix(doc.Format, " (facts)")
			data, err := encodeFacts(doc, []byte("the official "+bumpVersion+" document"))
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}},
		{"internal/wire/rest.go", func(t *testing.T, text string) string {
			const file = "internal/wire/rest.go"
			text = replaceOnce(t, file, text, "\t"+oldName+" = \""+old+"\"\n", "\t"+oldName+" = \""+old+"\"\n\t"+newName+" = \""+bumpVersion+"\"\n")
			text = replaceOnce(t, file, text, "const APIVersion = "+oldName+"\n", "const APIVersion = "+newName+"\n")
			return replaceOnce(t, file, text, ", APIVersion}", ", "+oldName+", APIVersion}")
		}},
		{"webpubsub/client.go", func(t *testing.T, text string) string {
			return replaceOnce(t, "webpubsub/client.go", text, `const APIVersion = "`+old+`"`, `const APIVersion = "`+bumpVersion+`"`)
		}},
		{"webpubsub/example_test.go", func(t *testing.T, text string) string {
			return replaceOnce(t, "webpubsub/example_test.go", text, "// Output: hub: chat api-version: "+old+"\n", "// Output: hub: chat api-version: "+bumpVersion+"\n")
		}},
	}
}

// documentedBumpFiles reads the files docs/regenerating.md says a bump
// changes, between its bump-files markers.
func documentedBumpFiles(t *testing.T, root string) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "regenerating.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- bump-files")
	section, _, ok2 := strings.Cut(rest, "<!-- /bump-files -->")
	if !ok || !ok2 {
		t.Fatal("docs/regenerating.md has no <!-- bump-files --> ... <!-- /bump-files --> list")
	}
	var files []string
	for _, part := range strings.Split(section, "`")[1:] {
		if strings.ContainsAny(part, "\n") || part == "" {
			continue
		}
		files = append(files, part)
	}
	return files
}

// copyModule copies the module's source into dir, leaving out what git does
// not keep (dependencies installed by npm, built programs).
func copyModule(t *testing.T, root, dir string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", ".bin":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy the module: %v", err)
	}
}

// TestVersionBumpTouchesOnlyListedFiles walks docs/regenerating.md's
// version bump to a made-up version in a copy of the module, editing only
// the files the guide lists, and checks that the copy regenerates, builds
// and passes the version-sensitive tests, and that no Go file but
// internal/wire/rest.go spells the old version in a string literal.
func TestVersionBumpTouchesOnlyListedFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a copy of the module (about a minute); run without -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	old := wire.APIVersion
	listed := documentedBumpFiles(t, root)
	dir := t.TempDir()
	copyModule(t, root, dir)
	for _, e := range bumpEdits(old) {
		if !slices.Contains(listed, e.file) {
			t.Errorf("the bump edits %s, which docs/regenerating.md does not list", e.file)
		}
		path := filepath.Join(dir, e.file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(e.edit(t, string(data))), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	goCmd := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("after the bump to %s, go %s: %v\n%s", bumpVersion, strings.Join(args, " "), err, out)
		}
	}
	goCmd("generate", "./...")
	goCmd("build", "./...")
	goCmd("test", "-count=1", "-skip", "TestVersionBump",
		"./internal/specdiff", "./internal/wire", "./internal/contract", "./internal/emulator", "./webpubsub", "./webpubsub/webpubsubtest")

	// Anything else that spells the old version in code would now be wrong.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == filepath.FromSlash("internal/wire/rest.go") || strings.HasPrefix(rel, "gen"+string(filepath.Separator)) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(data, []byte(old)) {
			return err
		}
		fset := token.NewFileSet()
		var sc scanner.Scanner
		sc.Init(fset.AddFile(rel, -1, len(data)), data, nil, 0) // comments are skipped
		for {
			pos, tok, lit := sc.Scan()
			if tok == token.EOF {
				return nil
			}
			if tok == token.STRING && strings.Contains(lit, old) {
				t.Errorf("%s spells api-version %s: use wire.APIVersion (or a named wire constant for a feature's first version)", fset.Position(pos), old)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
