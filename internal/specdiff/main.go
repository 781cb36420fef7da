// Command specdiff compares our OpenAPI 3 document, api/webpubsub.yaml, with
// the official Azure Web PubSub Swagger 2.0 document and prints every
// difference in operations, parameters, status codes, content types and
// schemas. Operations are matched by method and path; our operationIds are
// shorter on purpose and are not compared.
//
// Usage:
//
//	go run ./internal/specdiff [-write] [-facts FILE] [OFFICIAL.json [OURS.yaml]]
//
// OFFICIAL is an official Swagger document or a fact file; without it
// specdiff compares with the fact file, api/official-facts.json, which holds
// what specdiff derived from the official document of our api-version (the
// drift test does the same on every run). -write rewrites the fact file
// from OFFICIAL, a Swagger document, before comparing. OURS defaults to
// api/webpubsub.yaml in the module that holds the working directory.
//
// Differences listed in known.go are deliberate: they are printed as
// "known" with their reason. specdiff compares the two api-versions and
// words its advice for the side that is newer. The exit status is 0 when
// every difference is known (against an older official document, the
// differences are what changed since, and the status is 0), 1 when some are
// not (or, at the same api-version, a known one has disappeared), 2 when a
// document cannot be read or written.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], knownDifferences, os.Stdout, os.Stderr))
}

// run is the whole command with the given list of deliberate differences; it
// returns the exit status.
func run(ctx context.Context, args []string, known []knownDifference, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("specdiff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	write := fs.Bool("write", false, "rewrite the fact file from OFFICIAL.json (a Swagger document) before comparing")
	factsPath := fs.String("facts", "", "the fact file (default "+factsRelPath+" in the module)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/specdiff [-write] [-facts FILE] [OFFICIAL.json [OURS.yaml]]")
		fmt.Fprintln(stderr, "compares an official Swagger 2.0 document (default: the fact file "+factsRelPath+") with our OpenAPI 3 document (default api/webpubsub.yaml)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 2 || (*write && fs.NArg() < 1) {
		fs.Usage()
		return 2
	}
	officialPath, oursPath := fs.Arg(0), fs.Arg(1)
	if officialPath == "" || oursPath == "" || (*write && *factsPath == "") {
		root, err := moduleRoot(".")
		if err != nil {
			fmt.Fprintf(stderr, "specdiff: %v; pass the documents' paths as arguments\n", err)
			return 2
		}
		if *factsPath == "" {
			*factsPath = filepath.Join(root, factsRelPath)
		}
		if oursPath == "" {
			oursPath = filepath.Join(root, "api", "webpubsub.yaml")
		}
	}
	officialPath = cmp.Or(officialPath, *factsPath)

	official, raw, err := loadOfficial(officialPath)
	if err != nil {
		fmt.Fprintf(stderr, "specdiff: %v\n", err)
		return 2
	}
	if *write {
		if isFacts(raw) {
			fmt.Fprintf(stderr, "specdiff: -write needs the official Swagger document; %s is a fact file\n", officialPath)
			return 2
		}
		data, err := encodeFacts(official, raw)
		if err == nil {
			err = os.WriteFile(*factsPath, data, 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "specdiff: write the fact file: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "wrote %s: %d operations of api-version %s\n", *factsPath, len(official.Operations), official.Version)
	}
	ours, err := loadOpenAPI3(ctx, oursPath)
	if err != nil {
		fmt.Fprintf(stderr, "specdiff: %v\n", err)
		return 2
	}
	c := compare(official, ours)
	result := classify(c.Differences, known)
	side := newerSide(official.Version, ours.Version)
	writeReport(stdout, official, ours, c, result, known, side)
	if !result.cleanFor(side) {
		return 1
	}
	return 0
}

// Which document describes the later api-version.
const (
	sameVersion = iota
	officialNewer
	officialOlder
)

// newerSide compares two api-versions ("2024-12-01", "2025-01-01-preview"):
// by date, and a preview before the stable version of its date.
func newerSide(official, ours string) int {
	od, op := splitVersion(official)
	ud, up := splitVersion(ours)
	switch c := cmp.Or(strings.Compare(od, ud), cmp.Compare(btoi(!op), btoi(!up))); {
	case c > 0:
		return officialNewer
	case c < 0:
		return officialOlder
	}
	return sameVersion
}

// splitVersion returns an api-version's date part and whether it is a preview.
func splitVersion(v string) (date string, preview bool) {
	date, suffix, _ := strings.Cut(v, "-preview")
	return date, suffix == "" && strings.Contains(v, "-preview")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cleanFor reports whether there is nothing to fix, given which side is
// newer: against an older official document differences are history, and
// declarations are checked only at the same api-version.
func (c classified) cleanFor(side int) bool {
	switch side {
	case officialOlder:
		return true
	case officialNewer:
		return len(c.Undeclared) == 0
	}
	return c.clean()
}

// writeReport prints the comparison for a person to read.
func writeReport(w io.Writer, official, ours *document, c comparison, r classified, known []knownDifference, side int) {
	fmt.Fprintf(w, "official: %s (%s, version %s)\n", official.Source, official.Format, official.Version)
	fmt.Fprintf(w, "ours:     %s (%s, version %s)\n", ours.Source, ours.Format, ours.Version)
	switch side {
	case officialNewer:
		fmt.Fprintf(w, "the official document is newer (%s) than ours (%s): the differences below are what %s changes;\n"+
			"carry them into api/webpubsub.yaml as docs/regenerating.md says.\n", official.Version, ours.Version, official.Version)
	case officialOlder:
		fmt.Fprintf(w, "the official document is older (%s) than ours (%s): the differences below are what changed from %s to %s.\n"+
			"Nothing to fix: do not change api/webpubsub.yaml or internal/specdiff/known.go to match an older document.\n",
			official.Version, ours.Version, official.Version, ours.Version)
	}
	fmt.Fprintf(w, "%s\n", matchedLine(c))

	// One block per deliberate deviation, listing every place it occurs.
	fmt.Fprintf(w, "\nknown differences (%d, deliberate):\n", len(r.Known))
	places := map[int][]string{}
	var order []int
	for _, k := range r.Known {
		if places[k.Entry] == nil {
			order = append(order, k.Entry)
		}
		places[k.Entry] = append(places[k.Entry], k.Where)
	}
	for _, i := range order {
		k := known[i]
		fmt.Fprintf(w, "  %s: official %s, ours %s\n", k.What, show(k.Official), show(k.Ours))
		for _, where := range places[i] {
			fmt.Fprintf(w, "      at  %s\n", where)
		}
		fmt.Fprintf(w, "      why %s\n", k.Why)
	}

	if len(r.Unused) > 0 {
		switch side {
		case sameVersion:
			fmt.Fprintf(w, "\nknown differences that no longer occur (%d): remove them from internal/specdiff/known.go\n", len(r.Unused))
		case officialNewer:
			fmt.Fprintf(w, "\nknown differences that do not occur against %s (%d): remove them from internal/specdiff/known.go "+
				"when api/webpubsub.yaml moves to %s, not before (the drift test checks them against %s)\n",
				official.Version, len(r.Unused), official.Version, ours.Version)
		case officialOlder:
			fmt.Fprintf(w, "\nknown differences that do not occur against the older %s (%d): keep them; "+
				"they describe our deviations from %s\n", official.Version, len(r.Unused), ours.Version)
		}
		for _, k := range r.Unused {
			where := k.Where
			if where == "" {
				where = "(any operation)"
			}
			fmt.Fprintf(w, "  %s\n", difference{Where: where, What: k.What, Official: k.Official, Ours: k.Ours})
		}
	}

	fmt.Fprintf(w, "\nundeclared differences (%d)", len(r.Undeclared))
	if len(r.Undeclared) == 0 {
		fmt.Fprintln(w, ": none")
		return
	}
	switch side {
	case sameVersion:
		fmt.Fprintln(w, ": fix api/webpubsub.yaml, or add the deliberate ones to internal/specdiff/known.go")
	case officialNewer:
		fmt.Fprintf(w, ": what %s brings; change api/webpubsub.yaml to match, or declare deliberate deviations in internal/specdiff/known.go\n", official.Version)
	case officialOlder:
		fmt.Fprintf(w, ": what %s has that %s had not, or had otherwise (for information)\n", ours.Version, official.Version)
	}
	for _, d := range r.Undeclared {
		fmt.Fprintf(w, "  %s\n", d)
	}
}

// matchedLine summarises how many operations matched by method and path.
func matchedLine(c comparison) string {
	line := fmt.Sprintf("%d/%d operations matched", c.Matched, max(c.OfficialOps, c.OurOps))
	if only := c.OfficialOps - c.Matched; only > 0 {
		line += fmt.Sprintf(", %d only in official", only)
	}
	if only := c.OurOps - c.Matched; only > 0 {
		line += fmt.Sprintf(", %d only in ours", only)
	}
	return line
}

// moduleRoot walks up from dir to the directory that holds go.mod.
func moduleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any parent directory", abs)
		}
	}
}
