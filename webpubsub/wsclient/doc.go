// Package wsclient is a client of Azure Web PubSub (and of the local
// emulator and webpubsubtest) over WebSocket: a program that connects as a
// client, joins groups, publishes, sends events to the app's event handler
// and receives messages, and that survives network drops without losing
// or duplicating a message. It speaks json.reliable.webpubsub.azure.v1
// (the default) and json.webpubsub.azure.v1, with the defaults of
// @azure/web-pubsub-client 1.1.
//
// # Life cycle
//
// New (or NewWithURLFunc) makes a stopped client. Start fetches the client
// access URL, opens the WebSocket, waits for the service's connected
// message and raises the connected event; an error here (a *ConnectError)
// says why: a bad URL, a refused handshake with the service's text (401
// for an expired token), a subprotocol the service did not accept, or no
// answer before the deadline. The access token never appears in an error.
//
// While connected the client pings every 20 s and drops a connection on
// which nothing arrived for 120 s (it looks at every ping, and at least six
// times per KeepAliveTimeout, so the drop comes at most a sixth of the
// timeout late). On the reliable protocol it drops duplicate sequence ids
// and acknowledges the highest one within a second after it changed, and
// at once when it is more than 300 ahead.
//
// A started client runs one goroutine, which reads the connection and,
// when reading ends, recovers or replaces it and reads the next one.
// Timers send the sequence acks (armed only while an id waits) and the
// pings, one write at a time, each on a goroutine that lasts as long as
// its write; requests sent again after a recovery, and groups joined again
// on a new connection, go out from a goroutine that ends when they are
// sent. With callbacks set, one more goroutine calls them. An idle client
// costs about 20 KiB of memory (docs/PERFORMANCE.md).
//
// When the connection drops unexpectedly, a reliable client recovers it:
// it reconnects with the connection id and reconnection token every
// second for up to 30 s, keeps its connection id and groups, gets the
// messages it missed, and sends again the requests still waiting for an
// ack, with the same ack ids (the service executes each once). No event is
// raised for a recovery.
//
// When recovery is refused (close code 1008), the window passes, or the
// protocol is the plain JSON one, the connection is lost: requests sent on
// it that wait for an ack fail with ErrAckLost, the disconnected event is
// raised, and the client opens a new connection (a fresh URL from the URL
// function) after ReconnectDelay, without limit unless
// MaxReconnectAttempts is set. A new connection that is lost within 10 s
// counts as a failed attempt (the attempt number, and so the backoff,
// keeps growing), so a service that closes every connection with 1008
// cannot hold the client in a loop of quick reconnects. Recovery dials
// are at least 250 ms apart, and the recovery window only starts again
// after a recovered connection stayed up for 2 s. The new connection raises connected, the
// client joins its groups again (rejoin-group-failed for a group it could
// not join) and sends the requests that were not sent yet.
//
// Stop closes the connection normally, fails waiting requests with
// ErrStopped, raises stopped, and returns when every goroutine of the
// client has ended. A client that gives up reconnecting, or whose
// connection is lost with DisableAutoReconnect, stops by itself: Done is
// closed and Err says why.
//
// # Receiving
//
// Messages arrive in order through Receive or Messages, or through the
// OnMessage callback; events through the On* callbacks, called in order
// with the messages on one goroutine of the client. The queue between the
// network and the consumer holds ReceiveQueue messages (1024 by default).
// When it is full the client stops reading the socket until there is
// room: nothing is dropped or acknowledged early, the service buffers the
// rest (and, for a reader that never catches up, ends the connection,
// which a reliable client then recovers). A callback that waits for an
// acknowledged operation of the same client must therefore not run while
// the queue is full; call such operations from another goroutine.
//
// The receive path is built for bursts: a frame is decoded without
// reflection into a reused buffer, a stream of messages costs two small
// allocations each (a text's string and its box in Message.Data), and the
// consumer is woken once per network read, not once per message. Draining
// a backlog it reads about three times as many messages per second as
// @azure/web-pubsub-client with under a third of its CPU per message
// (docs/PERFORMANCE.md; BenchmarkReceive measures the path alone).
package wsclient
