// Command webpubsub is the command line of the Web PubSub Go toolkit: it runs
// a local Web PubSub service (serve), talks to a real or local service through
// the SDK (send, group, user, connection, permission, health, token), listens
// as a WebSocket client (listen) and walks through the whole SDK (demo).
//
// Run "webpubsub --help" for the commands and "webpubsub COMMAND --help" for
// each command's flags and examples. docs/cli.md has a walkthrough.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
