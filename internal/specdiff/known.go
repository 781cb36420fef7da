package main

// knownDifference is a difference between the official document and ours
// that we made on purpose. It matches a reported difference only when every
// field agrees, values included, so a change upstream shows up again as an
// undeclared difference instead of hiding behind an old entry.
type knownDifference struct {
	// Where is the operation or schema; "" matches every operation.
	Where string
	What  string
	// Official and Ours are the exact values the difference must have.
	Official, Ours string
	// Why we deviate.
	Why string
}

// knownDifferences are the deliberate deviations of api/webpubsub.yaml from
// the official Swagger document of its api-version (recorded in
// api/official-facts.json). docs/regenerating.md says when to edit this
// list.
var knownDifferences = []knownDifference{
	{
		What:     "path parameter group: pattern",
		Official: `^(?!\s+$).+$`,
		Ours:     `^.*\S.*$`,
		Why: "Go's RE2 cannot compile the negative lookahead (?!, so kin-openapi would reject every request " +
			"with a group; the rewrite accepts the same single-line names (at least one non-space character).",
	},
	{
		Where:    "POST /api/hubs/{hub}/:generateToken",
		What:     "query parameter clientType: enum",
		Official: "Default, MQTT",
		Why: "the service reads clientType case-insensitively and SDKs send other values (socketio, lowercase " +
			"spellings); an enum would make request validation and the emulator reject them.",
	},
	{
		Where:    "POST /api/hubs/{hub}/:generateToken",
		What:     "success 200: content types",
		Official: "application/json, text/json, text/plain",
		Ours:     "application/json",
		Why: "the toolkit decodes the token as JSON only; declaring text/plain and text/json too would add " +
			"response variants to the generated client and strict server that nothing uses.",
	},
	{
		What:     "request body application/json: schema",
		Official: "string/binary",
		Ours:     "any",
		Why: "with format binary on every media type oapi-codegen types the JSON body as a file; " +
			"an any-value schema gives a JSON method, and the SDK sends raw bytes through WithBody anyway.",
	},
	{
		What:     "request body text/plain: schema",
		Official: "string/binary",
		Ours:     "string",
		Why: "a plain string schema gives a text method that sends the string as is " +
			"(format binary would type it as a file).",
	},
	{
		Where: "schema Permission",
		What:  "schema",
		Ours:  "defined",
		Why: "the official document repeats the permission enum inline on each parameter; one named " +
			"schema gives one Go type with constants. The parameters still compare equal.",
	},
}

// matches reports whether k declares d.
func (k knownDifference) matches(d difference) bool {
	return (k.Where == "" || k.Where == d.Where) && k.What == d.What &&
		k.Official == d.Official && k.Ours == d.Ours
}

// classified splits differences into declared and undeclared ones.
type classified struct {
	// Known pairs each declared difference with the entry that declares it.
	Known []knownMatch
	// Undeclared are the differences no entry declares: drift to fix.
	Undeclared []difference
	// Unused are entries that matched nothing: the deviation is gone and the
	// entry should be removed.
	Unused []knownDifference
}

// knownMatch is a difference and the entry that declares it.
type knownMatch struct {
	difference
	// Entry indexes the declaring entry in the list given to classify.
	Entry int
}

// classify applies a list of deliberate differences.
func classify(diffs []difference, known []knownDifference) classified {
	var out classified
	used := make([]bool, len(known))
	for _, d := range diffs {
		declared := false
		for i, k := range known {
			if k.matches(d) {
				used[i], declared = true, true
				out.Known = append(out.Known, knownMatch{difference: d, Entry: i})
				break
			}
		}
		if !declared {
			out.Undeclared = append(out.Undeclared, d)
		}
	}
	for i, k := range known {
		if !used[i] {
			out.Unused = append(out.Unused, k)
		}
	}
	return out
}

// clean reports whether there is nothing to fix.
func (c classified) clean() bool { return len(c.Undeclared) == 0 && len(c.Unused) == 0 }
