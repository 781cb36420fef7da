// Package wire holds the wire facts of Azure Web PubSub that more than one
// package of this module needs: header names, JWT claim names, role strings,
// subprotocol names, client paths and CloudEvents names. Each fact is defined
// here once; the SDK (webpubsub), the event handler (webpubsub/eventhandler)
// and the emulator (internal/emulator) import it instead of repeating it.
//
// It holds constants and tiny pure helpers only, never behaviour.
package wire
