package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// officialFixture is a small Swagger 2.0 document in the shape of the
// official one: a HEAD existence check and a send with a binary body.
const officialFixture = `{
  "swagger": "2.0",
  "info": {"title": "fixture", "version": "2030-01-01"},
  "paths": {
    "/api/hubs/{hub}/groups/{group}": {
      "head": {
        "operationId": "Fixture_GroupExists",
        "parameters": [
          {"in": "path", "name": "hub", "required": true, "type": "string", "pattern": "^[a-z]+$"},
          {"in": "path", "name": "group", "required": true, "type": "string", "minLength": 1, "maxLength": 1024},
          {"in": "query", "name": "api-version", "required": true, "type": "string"}
        ],
        "responses": {"200": {"description": "OK"}, "404": {"description": "Not Found"}, "default": {"description": "Error"}}
      }
    },
    "/api/hubs/{hub}/:send": {
      "post": {
        "operationId": "Fixture_SendToAll",
        "consumes": ["application/octet-stream", "text/plain"],
        "produces": ["application/json"],
        "parameters": [
          {"in": "path", "name": "hub", "required": true, "type": "string", "pattern": "^[a-z]+$"},
          {"in": "query", "name": "excluded", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
          {"in": "query", "name": "ttl", "type": "integer", "format": "int32", "minimum": 0, "maximum": 300},
          {"in": "query", "name": "kind", "type": "string", "enum": ["a", "b"], "default": "a"},
          {"in": "query", "name": "api-version", "required": true, "type": "string"},
          {"in": "body", "name": "message", "required": true, "schema": {"type": "string", "format": "binary"}}
        ],
        "responses": {"202": {"description": "Accepted"}, "default": {"description": "Error"}}
      }
    }
  },
  "definitions": {
    "Member": {
      "type": "object",
      "required": ["id"],
      "properties": {"id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
      "additionalProperties": false
    }
  }
}`

// oursFixture is the same API as officialFixture, written as OpenAPI 3.
const oursFixture = `openapi: 3.0.3
info: {title: fixture, version: "2030-01-01"}
paths:
  /api/hubs/{hub}/groups/{group}:
    head:
      operationId: GroupExists
      parameters:
        - {in: path, name: hub, required: true, schema: {type: string, pattern: "^[a-z]+$"}}
        - {in: path, name: group, required: true, schema: {type: string, minLength: 1, maxLength: 1024}}
        - {in: query, name: api-version, required: true, schema: {type: string}}
      responses:
        "200": {description: OK}
        "404": {description: Not Found}
        default: {description: Error}
  /api/hubs/{hub}/:send:
    post:
      operationId: SendToAll
      parameters:
        - {in: path, name: hub, required: true, schema: {type: string, pattern: "^[a-z]+$"}}
        - {in: query, name: excluded, style: form, explode: true, schema: {type: array, items: {type: string}}}
        - {in: query, name: ttl, schema: {type: integer, format: int32, minimum: 0, maximum: 300}}
        - {in: query, name: kind, schema: {type: string, enum: [a, b], default: a}}
        - {in: query, name: api-version, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/octet-stream: {schema: {type: string, format: binary}}
          text/plain: {schema: {type: string, format: binary}}
      responses:
        "202": {description: Accepted}
        default: {description: Error}
components:
  schemas:
    Member:
      type: object
      required: [id]
      additionalProperties: false
      properties:
        id: {type: string}
        tags: {type: array, items: {type: string}}
`

const (
	headOp = "HEAD /api/hubs/{hub}/groups/{group}"
	sendOp = "POST /api/hubs/{hub}/:send"
)

// edit replaces old with new in doc exactly once, failing the test when old
// does not occur, so a fixture change cannot silently turn a case into a no-op.
func edit(t *testing.T, doc, old, new string) string {
	t.Helper()
	if strings.Count(doc, old) != 1 {
		t.Fatalf("fixture edit: %q occurs %d times, want once", old, strings.Count(doc, old))
	}
	return strings.Replace(doc, old, new, 1)
}

func compareFixtures(t *testing.T, official, ours string) comparison {
	t.Helper()
	o, err := parseSwagger2([]byte(official))
	if err != nil {
		t.Fatalf("parse official fixture: %v", err)
	}
	u, err := parseOpenAPI3(context.Background(), []byte(ours))
	if err != nil {
		t.Fatalf("parse our fixture: %v", err)
	}
	return compare(o, u)
}

func TestCompareDetectsEachKindOfDifference(t *testing.T) {
	tests := []struct {
		name     string
		official func(t *testing.T, doc string) string
		ours     func(t *testing.T, doc string) string
		want     []difference
	}{
		{
			name: "identical documents",
		},
		{
			name: "operation missing on each side",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "    head:\n      operationId: GroupExists", "    get:\n      operationId: GroupExists")
			},
			want: []difference{
				{Where: "GET /api/hubs/{hub}/groups/{group}", What: "operation", Ours: "operationId GroupExists"},
				{Where: headOp, What: "operation", Official: "operationId Fixture_GroupExists"},
			},
		},
		{
			name: "changed minimum",
			ours: func(t *testing.T, doc string) string { return edit(t, doc, "minimum: 0,", "minimum: 1,") },
			want: []difference{{Where: sendOp, What: "query parameter ttl: minimum", Official: "0", Ours: "1"}},
		},
		{
			name: "changed maximum and maxLength",
			official: func(t *testing.T, doc string) string {
				doc = edit(t, doc, `"maximum": 300`, `"maximum": 600`)
				return edit(t, doc, `"maxLength": 1024`, `"maxLength": 128`)
			},
			want: []difference{
				{Where: sendOp, What: "query parameter ttl: maximum", Official: "600", Ours: "300"},
				{Where: headOp, What: "path parameter group: maxLength", Official: "128", Ours: "1024"},
			},
		},
		{
			name: "array becomes a single value",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "{in: query, name: excluded, style: form, explode: true, schema: {type: array, items: {type: string}}}",
					"{in: query, name: excluded, schema: {type: string}}")
			},
			want: []difference{
				{Where: sendOp, What: "query parameter excluded: type", Official: "array", Ours: "string"},
				{Where: sendOp, What: "query parameter excluded: items", Official: "string"},
				{Where: sendOp, What: "query parameter excluded: array serialization", Official: "multi"},
			},
		},
		{
			name: "array item type",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "schema: {type: array, items: {type: string}}}", "schema: {type: array, items: {type: integer}}}")
			},
			want: []difference{{Where: sendOp, What: "query parameter excluded: items", Official: "string", Ours: "integer"}},
		},
		{
			name: "comma-joined instead of repeated keys",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "style: form, explode: true,", "style: form, explode: false,")
			},
			want: []difference{{Where: sendOp, What: "query parameter excluded: array serialization", Official: "multi", Ours: "csv"}},
		},
		{
			name: "required flag",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "{in: query, name: ttl,", "{in: query, name: ttl, required: true,")
			},
			want: []difference{{Where: sendOp, What: "query parameter ttl: required", Official: "false", Ours: "true"}},
		},
		{
			name: "parameter missing and enum and default",
			ours: func(t *testing.T, doc string) string {
				doc = edit(t, doc, "        - {in: path, name: group, required: true, schema: {type: string, minLength: 1, maxLength: 1024}}\n", "")
				doc = edit(t, doc, "/api/hubs/{hub}/groups/{group}:", "/api/hubs/{hub}/groups/{group}:\n    parameters:\n      - {in: path, name: group, required: true, schema: {type: string, minLength: 2, maxLength: 1024}}")
				return edit(t, doc, "enum: [a, b], default: a", "enum: [a, b, c], default: b")
			},
			want: []difference{
				{Where: sendOp, What: "query parameter kind: enum", Official: "a, b", Ours: "a, b, c"},
				{Where: sendOp, What: "query parameter kind: default", Official: "a", Ours: "b"},
				{Where: headOp, What: "path parameter group: minLength", Official: "1", Ours: "2"},
			},
		},
		{
			name: "query parameter only in ours",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "        - {in: query, name: ttl,", "        - {in: query, name: filter, schema: {type: string}}\n        - {in: query, name: ttl,")
			},
			want: []difference{{Where: sendOp, What: "query parameter filter", Ours: "optional, type string"}},
		},
		{
			name: "parameters only in official print their whole shape",
			ours: func(t *testing.T, doc string) string {
				doc = edit(t, doc, "        - {in: query, name: ttl, schema: {type: integer, format: int32, minimum: 0, maximum: 300}}\n", "")
				return edit(t, doc, "        - {in: query, name: excluded, style: form, explode: true, schema: {type: array, items: {type: string}}}\n", "")
			},
			want: []difference{
				{Where: sendOp, What: "query parameter excluded", Official: "optional, type array, items string, array serialization multi"},
				{Where: sendOp, What: "query parameter ttl", Official: "optional, type integer, format int32, minimum 0, maximum 300"},
			},
		},
		{
			name: "pattern",
			official: func(t *testing.T, doc string) string {
				return edit(t, doc, `"type": "string", "minLength": 1,`, `"type": "string", "pattern": "^.+$", "minLength": 1,`)
			},
			want: []difference{{Where: headOp, What: "path parameter group: pattern", Official: "^.+$"}},
		},
		{
			name: "success status code",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, `"202": {description: Accepted}`, `"204": {description: No Content}`)
			},
			want: []difference{{Where: sendOp, What: "success statuses", Official: "202", Ours: "204"}},
		},
		{
			name: "404 of a HEAD check",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "        \"404\": {description: Not Found}\n", "")
			},
			want: []difference{{Where: headOp, What: "success statuses", Official: "200, 404", Ours: "200"}},
		},
		{
			name: "request content types and body schema",
			ours: func(t *testing.T, doc string) string {
				doc = edit(t, doc, "          text/plain: {schema: {type: string, format: binary}}\n",
					"          application/json: {schema: {}}\n")
				return edit(t, doc, "      requestBody:\n        required: true", "      requestBody:\n        required: false")
			},
			want: []difference{
				{Where: sendOp, What: "request body: required", Official: "true", Ours: "false"},
				{Where: sendOp, What: "request body: content types", Official: "application/octet-stream, text/plain", Ours: "application/json, application/octet-stream"},
			},
		},
		{
			name: "response body content types",
			official: func(t *testing.T, doc string) string {
				return edit(t, doc, `"202": {"description": "Accepted"}`, `"202": {"description": "Accepted", "schema": {"$ref": "#/definitions/Member"}}`)
			},
			want: []difference{{Where: sendOp, What: "success 202: content types", Official: "application/json"}},
		},
		{
			name: "schema property and required list",
			ours: func(t *testing.T, doc string) string {
				doc = edit(t, doc, "tags: {type: array, items: {type: string}}", "tags: {type: string}")
				return edit(t, doc, "required: [id]", "required: [id, tags]")
			},
			want: []difference{
				{Where: "schema Member", What: "required properties", Official: "id", Ours: "id, tags"},
				{Where: "schema Member", What: "property tags", Official: "array of string", Ours: "string"},
			},
		},
		{
			name: "request body only in official",
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, `      requestBody:
        required: true
        content:
          application/octet-stream: {schema: {type: string, format: binary}}
          text/plain: {schema: {type: string, format: binary}}
`, "")
			},
			want: []difference{{Where: sendOp, What: "request body", Official: "required, application/octet-stream string/binary, text/plain string/binary"}},
		},
		{
			name: "shared and referenced parameters resolve like inline ones",
			official: func(t *testing.T, doc string) string {
				doc = edit(t, doc, `"/api/hubs/{hub}/groups/{group}": {
      "head": {`, `"/api/hubs/{hub}/groups/{group}": {
      "parameters": [{"in": "path", "name": "hub", "required": true, "type": "string", "pattern": "^[a-z]+$"}],
      "head": {`)
				doc = edit(t, doc, `          {"in": "path", "name": "hub", "required": true, "type": "string", "pattern": "^[a-z]+$"},
          {"in": "path", "name": "group"`, `          {"in": "path", "name": "group"`)
				doc = edit(t, doc, `{"in": "query", "name": "ttl", "type": "integer", "format": "int32", "minimum": 0, "maximum": 300}`, `{"$ref": "#/parameters/Ttl"}`)
				return edit(t, doc, `"definitions": {`, `"parameters": {"Ttl": {"in": "query", "name": "ttl", "type": "integer", "format": "int32", "minimum": 0, "maximum": 300}},
  "definitions": {`)
			},
		},
		{
			name: "pipe-delimited arrays compare equal across formats",
			official: func(t *testing.T, doc string) string {
				return edit(t, doc, `"collectionFormat": "multi"`, `"collectionFormat": "pipes"`)
			},
			ours: func(t *testing.T, doc string) string {
				return edit(t, doc, "style: form, explode: true,", "style: pipeDelimited, explode: false,")
			},
		},
		{
			name: "api version",
			official: func(t *testing.T, doc string) string {
				return edit(t, doc, `"version": "2030-01-01"`, `"version": "2031-01-01"`)
			},
			want: []difference{{Where: "document", What: "api version (info.version)", Official: "2031-01-01", Ours: "2030-01-01"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			official, ours := officialFixture, oursFixture
			if tt.official != nil {
				official = tt.official(t, official)
			}
			if tt.ours != nil {
				ours = tt.ours(t, ours)
			}
			c := compareFixtures(t, official, ours)
			if diff := cmp.Diff(tt.want, c.Differences); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSwagger2Errors(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"not JSON", "swagger: 2.0", "not valid JSON"},
		{"OpenAPI 3", `{"openapi": "3.0.3"}`, "want a Swagger 2.0 document"},
		{"dangling parameter reference", edit(t, officialFixture,
			`{"in": "query", "name": "ttl", "type": "integer", "format": "int32", "minimum": 0, "maximum": 300}`,
			`{"$ref": "#/parameters/Nope"}`), `parameter reference "#/parameters/Nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSwagger2([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseSwagger2 error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseOpenAPI3RejectsInvalidDocuments(t *testing.T) {
	// RE2 cannot compile the official group pattern; our loader must say so
	// instead of comparing a document kin-openapi cannot validate against.
	doc := edit(t, oursFixture, `pattern: "^[a-z]+$"}}
        - {in: path, name: group`, `pattern: "^(?!\\s+$).+$"}}
        - {in: path, name: group`)
	_, err := parseOpenAPI3(context.Background(), []byte(doc))
	if err == nil || !strings.Contains(err.Error(), "invalid OpenAPI document") || !strings.Contains(err.Error(), "(?!") {
		t.Errorf("parseOpenAPI3 error = %v, want an invalid-document error", err)
	}
}

func TestCompareCountsMatchedOperations(t *testing.T) {
	ours := edit(t, oursFixture, "    head:\n      operationId: GroupExists", "    get:\n      operationId: GroupExists")
	c := compareFixtures(t, officialFixture, ours)
	if got, want := matchedLine(c), "1/2 operations matched, 1 only in official, 1 only in ours"; got != want {
		t.Errorf("matchedLine = %q, want %q", got, want)
	}
	c = compareFixtures(t, officialFixture, oursFixture)
	if got, want := matchedLine(c), "2/2 operations matched"; got != want {
		t.Errorf("matchedLine = %q, want %q", got, want)
	}
}

func TestClassify(t *testing.T) {
	diffs := []difference{
		{Where: "GET /a", What: "path parameter group: pattern", Official: "x", Ours: "y"},
		{Where: "GET /b", What: "path parameter group: pattern", Official: "x", Ours: "y"},
		{Where: "GET /b", What: "path parameter group: pattern", Official: "x2", Ours: "y"},
		{Where: "GET /c", What: "success statuses", Official: "200", Ours: "204"},
	}
	known := []knownDifference{
		{What: "path parameter group: pattern", Official: "x", Ours: "y", Why: "any operation"},
		{Where: "GET /c", What: "success statuses", Official: "200", Ours: "202", Why: "values differ, so no match"},
		{Where: "GET /z", What: "operation", Official: "operationId Z", Why: "never seen"},
	}
	got := classify(diffs, known)
	want := classified{
		Known:      []knownMatch{{difference: diffs[0], Entry: 0}, {difference: diffs[1], Entry: 0}},
		Undeclared: []difference{diffs[2], diffs[3]},
		Unused:     []knownDifference{known[1], known[2]},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(knownMatch{})); diff != "" {
		t.Errorf("classify (-want +got):\n%s", diff)
	}
	if got.clean() {
		t.Error("clean() = true with undeclared and unused entries")
	}
}

func TestRunExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	official := write("official.json", officialFixture)
	same := write("same.yaml", oursFixture)
	changed := write("changed.yaml", edit(t, oursFixture, "minimum: 0,", "minimum: 5,"))
	notSwagger := write("not-swagger.json", `{"openapi": "3.0.3"}`)
	older := write("older.json", edit(t, officialFixture, `"version": "2030-01-01"`, `"version": "2029-06-01"`))
	newer := write("newer.json", edit(t, officialFixture, `"version": "2030-01-01"`, `"version": "2030-02-01-preview"`))
	facts := filepath.Join(dir, "facts.json")
	known := []knownDifference{{Where: sendOp, What: "query parameter ttl: minimum", Official: "0", Ours: "5", Why: "test"}}

	tests := []struct {
		name       string
		args       []string
		known      []knownDifference
		wantStatus int
		wantOut    []string
	}{
		{"no differences", []string{official, same}, nil, 0, []string{"2/2 operations matched", "undeclared differences (0): none"}},
		{"undeclared difference", []string{official, changed}, nil, 1, []string{`query parameter ttl: minimum: official "0", ours "5"`, "undeclared differences (1)"}},
		{"declared difference", []string{official, changed}, known, 0, []string{"known differences (1, deliberate)", "at  " + sendOp, "why test"}},
		{"stale declaration", []string{official, same}, known, 1, []string{"no longer occur (1)"}},
		{"not swagger 2.0", []string{notSwagger, same}, nil, 2, []string{`want a Swagger 2.0 document`}},
		{"missing file", []string{filepath.Join(dir, "nope.json"), same}, nil, 2, []string{"read the official Swagger document or fact file"}},
		{"write the facts", []string{"-write", "-facts", facts, official, same}, nil, 0, []string{"wrote " + facts + ": 2 operations of api-version 2030-01-01", "2/2 operations matched"}},
		{"compare with the facts", []string{"-facts", facts, "", changed}, nil, 1, []string{"(swagger 2.0 (facts), version 2030-01-01)", `query parameter ttl: minimum: official "0", ours "5"`}},
		{"write from a fact file", []string{"-write", "-facts", filepath.Join(dir, "other.json"), facts, same}, nil, 2, []string{"-write needs the official Swagger document"}},
		{"the module's fact file by default", nil, knownDifferences, 0, []string{"25/25 operations matched", "undeclared differences (0): none"}},
		{"older official: history, no advice to change anything", []string{older, changed}, known[:0:0], 0, []string{
			"the official document is older (2029-06-01) than ours (2030-01-01)",
			"do not change api/webpubsub.yaml or internal/specdiff/known.go", "(for information)"}},
		{"older official keeps unmatched declarations", []string{older, same}, known, 0, []string{"do not occur against the older 2029-06-01 (1): keep them"}},
		{"newer official", []string{newer, same}, known, 1, []string{
			"the official document is newer (2030-02-01-preview)", "what 2030-02-01-preview brings",
			"remove them from internal/specdiff/known.go when api/webpubsub.yaml moves to 2030-02-01-preview, not before"}},
		{"too many arguments", []string{official, same, same}, nil, 2, []string{"usage: go run ./internal/specdiff"}},
		{"write without a document", []string{"-write"}, nil, 2, []string{"usage: go run ./internal/specdiff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(context.Background(), tt.args, tt.known, &stdout, &stderr)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d\nstdout:\n%s\nstderr:\n%s", status, tt.wantStatus, &stdout, &stderr)
			}
			out := stdout.String() + stderr.String()
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestFactsRoundTrip checks that comparing with the fact file derived from
// a document finds exactly what comparing with the document finds.
func TestFactsRoundTrip(t *testing.T) {
	changed := edit(t, oursFixture, "minimum: 0,", "minimum: 5,")
	for name, ours := range map[string]string{"same": oursFixture, "changed": changed} {
		t.Run(name, func(t *testing.T) {
			doc, err := parseSwagger2([]byte(officialFixture))
			if err != nil {
				t.Fatal(err)
			}
			data, err := encodeFacts(doc, []byte(officialFixture))
			if err != nil {
				t.Fatal(err)
			}
			if !isFacts(data) || isFacts([]byte(officialFixture)) {
				t.Fatal("isFacts cannot tell a fact file from a Swagger document")
			}
			facts, err := parseFacts(data)
			if err != nil {
				t.Fatal(err)
			}
			u, err := parseOpenAPI3(context.Background(), []byte(ours))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(compare(doc, u), compare(facts, u), cmp.AllowUnexported(comparison{})); diff != "" {
				t.Errorf("facts compare differently from the document (-document +facts):\n%s", diff)
			}
			for _, prose := range []string{"description", "summary", "Accepted", "Not Found"} {
				if bytes.Contains(data, []byte(prose)) {
					t.Errorf("the fact file holds prose (%q):\n%s", prose, data)
				}
			}
		})
	}
}

func TestParseFactsErrors(t *testing.T) {
	tests := []struct{ name, data, wantErr string }{
		{"not JSON", "{", "not a valid fact file"},
		{"other format", `{"facts": "specdiff facts 0", "operations": {}}`, `fact file format "specdiff facts 0"`},
		{"no operations", `{"facts": "specdiff facts 1"}`, "lists no operations"},
		{"key mismatch", `{"facts": "specdiff facts 1", "operations": {"GET /a": {"method": "GET", "path": "/b"}}}`, `operation "GET /a"`},
		{"parameter key mismatch", `{"facts": "specdiff facts 1", "operations": {"GET /a": {"method": "GET", "path": "/a", "parameters": {"query x": {"in": "query", "name": "y"}}}}}`, `parameter "query x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseFacts([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFacts error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewerSide(t *testing.T) {
	tests := []struct {
		official, ours string
		want           int
	}{
		{"2030-06-01", "2030-06-01", sameVersion},
		{"2029-07-01", "2030-06-01", officialOlder},
		{"2031-01-01", "2030-06-01", officialNewer},
		{"2030-06-01-preview", "2030-06-01", officialOlder},
		{"2030-06-01", "2030-06-01-preview", officialNewer},
		{"2031-01-01-preview", "2030-06-01", officialNewer},
	}
	for _, tt := range tests {
		if got := newerSide(tt.official, tt.ours); got != tt.want {
			t.Errorf("newerSide(%q, %q) = %d, want %d", tt.official, tt.ours, got, tt.want)
		}
	}
}
