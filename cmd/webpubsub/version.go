package main

import (
	"context"
	"flag"
	"runtime"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version of this command",
		details: `Print the module version this command was built from ("devel" for a
build from a work tree) and the Go version.

Example:
  webpubsub version`,
		setup: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, inv *invocation, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				v := moduleVersion()
				if inv.jsonOutput() {
					return inv.printJSON(struct {
						Version string `json:"version"`
						Go      string `json:"go"`
					}{v, runtime.Version()})
				}
				inv.printf("webpubsub %s (%s)\n", v, runtime.Version())
				return nil
			}
		},
	}
}

// moduleVersion is the version of the main module, e.g. "v0.3.0" after
// "go install ...@v0.3.0", or "devel".
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" || info.Main.Version == "(devel)" {
		return "devel"
	}
	return info.Main.Version
}
