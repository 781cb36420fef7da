package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// factsRelPath is the fact file in the module: what specdiff derived from
// the official Swagger document of the api-version api/webpubsub.yaml
// describes. The drift test compares our document with it on every run, so
// a clone needs nothing beside it.
const factsRelPath = "api/official-facts.json"

// factsFormat marks a fact file and its layout; a file without it is read
// as a Swagger document.
const factsFormat = "specdiff facts 1"

// factFile is the fact file's JSON: the compared facts of the official
// document (operations; parameters with location, type, array-ness,
// bounds, pattern, enum and default; success codes; content types; schema
// shapes), with where they came from. None of the document's prose is kept.
type factFile struct {
	Facts string `json:"facts"`
	About string `json:"about"`
	// Source is where the official document is published.
	Source string `json:"source"`
	// SHA256 is the digest of the official document the facts came from.
	SHA256 string `json:"sha256"`
	*document
}

// factsAbout tells a reader of the fact file what it is.
const factsAbout = "Derived by internal/specdiff from the official Swagger document " +
	"(Azure/azure-rest-api-specs, specification/webpubsub/data-plane/WebPubSub/stable/<version>/webpubsub.json). " +
	"Do not edit: rewrite it with 'go run ./internal/specdiff -write OFFICIAL.json' (docs/regenerating.md)."

// encodeFacts renders doc, read from a file with the given bytes, as a
// fact file. The output is stable: maps are written with sorted keys.
func encodeFacts(doc *document, official []byte) ([]byte, error) {
	sum := sha256.Sum256(official)
	f := factFile{Facts: factsFormat, About: factsAbout, Source: officialSpecPath(doc.Version), SHA256: hex.EncodeToString(sum[:]), document: doc}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode the facts: %w", err)
	}
	return buf.Bytes(), nil
}

// officialSpecPath is where Azure/azure-rest-api-specs publishes the
// official document of a stable api-version.
func officialSpecPath(version string) string {
	return "specification/webpubsub/data-plane/WebPubSub/stable/" + version + "/webpubsub.json"
}

// isFacts reports whether data is a fact file rather than a Swagger document.
func isFacts(data []byte) bool {
	var probe struct {
		Facts string `json:"facts"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Facts != ""
}

// parseFacts reads a fact file.
func parseFacts(data []byte) (*document, error) {
	f := factFile{document: &document{}}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a valid fact file: %w", err)
	}
	if f.Facts != factsFormat {
		return nil, fmt.Errorf("fact file format %q, want %q: rewrite it with -write from the official document", f.Facts, factsFormat)
	}
	if len(f.Operations) == 0 {
		return nil, fmt.Errorf("the fact file lists no operations")
	}
	for key, op := range f.Operations {
		if op == nil || opKey(op.Method, op.Path) != key {
			return nil, fmt.Errorf("operation %q: its method and path do not match its key", key)
		}
		for pk, p := range op.Params {
			if p == nil || paramKey(p.In, p.Name) != pk {
				return nil, fmt.Errorf("%s: parameter %q: its location and name do not match its key", key, pk)
			}
		}
	}
	f.Format += " (facts)"
	return f.document, nil
}

// loadOfficial reads the official side: a Swagger 2.0 document or a fact
// file. It also returns the file's bytes, from which -write derives facts.
func loadOfficial(path string) (*document, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read the official Swagger document or fact file: %w", err)
	}
	parse := parseSwagger2
	if isFacts(data) {
		parse = parseFacts
	}
	doc, err := parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	doc.Source = path
	return doc, data, nil
}
