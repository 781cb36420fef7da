// Command specdiff compares our OpenAPI 3 document, api/webpubsub.yaml, with
// an official Azure Web PubSub Swagger 2.0 document and prints every
// difference in operations, parameters, status codes, content types and
// schemas. Operations are matched by method and path; our operationIds are
// shorter on purpose and are not compared.
//
// Usage:
//
//	go run ./internal/specdiff OFFICIAL.json [OURS.yaml]
//
// OURS defaults to api/webpubsub.yaml in the module that holds the working
// directory. Differences listed in known.go are deliberate: they are printed
// as "known" with their reason. The exit status is 0 when every difference is
// known, 1 when some are not (or a known one has disappeared), 2 when a
// document cannot be read.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], knownDifferences, os.Stdout, os.Stderr))
}

// run is the whole command with the given list of deliberate differences; it
// returns the exit status.
func run(ctx context.Context, args []string, known []knownDifference, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("specdiff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/specdiff OFFICIAL.json [OURS.yaml]")
		fmt.Fprintln(stderr, "compares an official Swagger 2.0 document with our OpenAPI 3 document (default api/webpubsub.yaml)")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return 2
	}
	officialPath := fs.Arg(0)
	oursPath := fs.Arg(1)
	if oursPath == "" {
		root, err := moduleRoot(".")
		if err != nil {
			fmt.Fprintf(stderr, "specdiff: %v; pass the path of our document as the second argument\n", err)
			return 2
		}
		oursPath = filepath.Join(root, "api", "webpubsub.yaml")
	}

	official, err := loadSwagger2(officialPath)
	if err != nil {
		fmt.Fprintf(stderr, "specdiff: %v\n", err)
		return 2
	}
	ours, err := loadOpenAPI3(ctx, oursPath)
	if err != nil {
		fmt.Fprintf(stderr, "specdiff: %v\n", err)
		return 2
	}
	c := compare(official, ours)
	result := classify(c.Differences, known)
	writeReport(stdout, official, ours, c, result, known)
	if !result.clean() {
		return 1
	}
	return 0
}

// writeReport prints the comparison for a person to read.
func writeReport(w io.Writer, official, ours *document, c comparison, r classified, known []knownDifference) {
	fmt.Fprintf(w, "official: %s (%s, version %s)\n", official.Source, official.Format, official.Version)
	fmt.Fprintf(w, "ours:     %s (%s, version %s)\n", ours.Source, ours.Format, ours.Version)
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
		fmt.Fprintf(w, "\nknown differences that no longer occur (%d): remove them from internal/specdiff/known.go\n", len(r.Unused))
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
	fmt.Fprintln(w, ": fix api/webpubsub.yaml, or add the deliberate ones to internal/specdiff/known.go")
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
