// Package eventhandler receives Azure Web PubSub's upstream events in a
// plain net/http handler.
//
// # The flow
//
// In the service's hub settings you point an event handler at a URL of your
// app, e.g. https://app.example.com/eventhandler, and pick the system events
// (connect, connected, disconnected) and user events to send. Then:
//
//  1. The service validates the URL once (the CloudEvents abuse-protection
//     handshake): it sends OPTIONS with WebHook-Request-Origin set to its
//     host. The handler answers 200 with WebHook-Allowed-Origin only if
//     that host is allowed (by default the host of the configured
//     connection string; WithAllowedOrigins adds more, or "*").
//  2. For every client event it POSTs a CloudEvent in binary mode: the
//     attributes in ce-* headers (ce-type, ce-hub, ce-connectionId,
//     ce-userId, ce-eventName, ce-subprotocol, ce-connectionState,
//     ce-signature, ce-awpsversion, ...) and the data in the body.
//  3. The handler refuses, with a 4xx and a one-line reason, and without
//     calling your code, any request that is not a well-formed Web PubSub
//     event for its hub: a method other than OPTIONS or POST (405), a
//     missing header (400), an origin that is not allowed (403), another
//     hub (400), a ce-signature that matches none of the configured access
//     keys (401), a body over the cap (413, 1 MiB by default), a body that
//     does not fit the event (400), a user event of an unknown content type
//     (415).
//  4. It decodes the event into a typed value and calls the callback for
//     it from Handlers (the list below).
//  5. The callback's answer becomes the HTTP response the service acts on:
//     204 or 200 with a JSON body for connect, 204 or 200 with the reply's
//     Content-Type for user events, 200 for notifications, the Reject
//     status for refusals, 500 (with a generic message; the error is logged)
//     for any other error.
//
// The callbacks, by event:
//
//   - connect (blocking, *ConnectRequest: claims, query, headers,
//     subprotocols, client certificates). Accept by returning nil or a
//     *ConnectResponse (user id, groups, roles, subprotocol), or reject by
//     returning Reject(401, "why"): the client's handshake fails with that
//     status.
//   - connected (non-blocking, *ConnectedEvent).
//   - user events (blocking, *UserEvent; any event name; the data as text,
//     JSON or binary by Content-Type). Return nil to acknowledge, an
//     *EventResponse (TextReply, JSONReply, BinaryReply) to send data back to
//     the client, or an error: the service then closes the connection.
//   - disconnected (non-blocking, *DisconnectedEvent with the reason).
//
// The handler does not look at the URL path, so it can be mounted at any
// path of any mux, including a prefix when the URL template contains {event}
// (e.g. mux.Handle("/eventhandler/", h) for
// https://app.example.com/eventhandler/{event}).
//
// # Signatures
//
// The service signs each request: ce-signature holds
// "sha256=" + hex(HMAC-SHA256(accessKey, connectionID)) for the primary and
// the secondary key, comma-separated. The handler accepts a request when any
// value matches any configured key (compared in constant time), so
// configuring both keys (WithConnectionString plus WithAccessKeys) keeps it
// working while keys rotate. Signature checking is on by default; turn it off
// only explicitly, with WithoutSignatureValidation, when a trusted proxy
// authenticates the service in another way (e.g. its managed identity).
// A signature stays valid for its connection, so ConnectionContext.Signature
// prints redacted with every fmt verb.
//
// # Connection state
//
// The service keeps a small state with each connection and sends it with
// every event (ce-connectionState, base64-encoded JSON by the convention of
// the official JavaScript and .NET handlers). Read it from
// ConnectionContext.State; change it from a blocking event's answer with
// SetState, DeleteState and ClearState on the response. Changes merge into
// the state the event arrived with, and the whole result replaces the state
// the service keeps; ClearState then SetState replaces it; ClearState alone
// empties it. Without changes the state stays as it is.
//
// # MQTT clients
//
// The service sends the connect, connected and disconnected events of MQTT
// clients to the same handler (the service specifies no MQTT user events). Such
// events have ce-subprotocol "mqtt" and a ce-physicalConnectionId, and
// ConnectionContext.MQTT holds that id and the session id (ce-sessionId,
// absent on connect); ConnectionContext.ConnectionID is the MQTT client id.
// ConnectRequest.MQTT holds the CONNECT packet's protocol version, user
// name, password (redacted when printed) and user properties, and
// DisconnectedEvent.MQTT whether the client ended the session and its
// DISCONNECT packet's reason code and user properties.
//
// Reject an MQTT client with RejectMQTT to choose the CONNACK code it
// receives; Reject and other errors are answered with the code the official
// handlers map the status to (400: bad user name or password, 401 and 403:
// not authorized, otherwise a server error). Either way the body is the
// JSON object {"mqtt": {"code", "reason", "userProperties"}} the service
// expects. ConnectResponse.MQTTUserProperties go to MQTT 5.0 clients in
// their CONNACK packet.
//
// # Why a struct of funcs
//
// Handlers is a struct of optional funcs rather than an interface: an app
// sets only the callbacks it needs, inline and as closures over its own
// dependencies, with no type to declare and no no-op base to embed; a nil
// field has a documented default answer.
//
// # Logging
//
// WithLogger takes a *slog.Logger. Refused requests are logged at Warn with
// their reason, callback errors at Error, handled events at Debug. Access
// keys and signatures are never logged.
package eventhandler
