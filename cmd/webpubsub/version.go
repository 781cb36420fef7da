package main

import (
	"context"
	"flag"
	"runtime"
	"runtime/debug"

	"github.com/webpubsub-go/sdk/webpubsub"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version of this command",
		details: `Print the module version this command was built from and the Go
version. A build without a module version (from a work tree, or with VCS
stamping off) prints the version of the SDK it contains instead.

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
// "go install ...@v0.3.0", or else the SDK's version.
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	return versionOf(info, ok)
}

// versionOf is moduleVersion for the given build information.
func versionOf(info *debug.BuildInfo, ok bool) string {
	if !ok || info.Main.Version == "" || info.Main.Version == "(devel)" {
		return "v" + webpubsub.SDKVersion
	}
	return info.Main.Version
}
