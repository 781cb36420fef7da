// Package webpubsub is a client for the REST API of Azure Web PubSub: it
// sends messages to WebSocket clients, manages groups, users, connections
// and permissions, and issues client access tokens.
//
// # Creating a client
//
// A Client is bound to one hub. Create it once and share it; it is safe for
// concurrent use. There are three ways to authenticate:
//
//	// 1. The connection string from the portal (Keys blade).
//	client, err := webpubsub.NewClientFromConnectionString(os.Getenv("WEBPUBSUB_CONNECTION_STRING"), "chat")
//
//	// 2. An endpoint and an access key. Rotate the key later with key.Update.
//	key, err := webpubsub.NewKeyCredential(os.Getenv("WEBPUBSUB_KEY"))
//	client, err := webpubsub.NewClientWithKey("https://<name>.webpubsub.azure.com", "chat", key)
//
//	// 3. Microsoft Entra ID, with any azcore.TokenCredential (e.g. azidentity).
//	cred, err := azidentity.NewDefaultAzureCredential(nil)
//	client, err := webpubsub.NewClient("https://<name>.webpubsub.azure.com", "chat", cred)
//
// Hub names follow the service's rule: a letter, then at most 127 letters,
// digits or _ ` , . [ ] (no hyphens). Connection strings are parsed by
// ParseConnectionString: keys are case-insensitive, values trimmed, Port=
// replaces the endpoint's port, http://localhost endpoints (emulators) work,
// and no error ever contains the key.
//
// With an access key every try of every request carries a fresh HS256 JWT,
// valid for five minutes, whose aud is the exact request URL (query
// included), signed just before the request is sent. With Entra ID a token
// for the scope https://webpubsub.azure.com/.default (WithTokenScope sets
// another, for sovereign or private clouds) is cached and renewed
// shortly before it expires, by one goroutine at a time; it is only ever
// sent over https, or over http to a loopback address (a local emulator).
//
// Options: WithHTTPClient, WithAPIVersion (default APIVersion, 2024-12-01;
// older versions refuse what they lack with ErrInvalidArgument),
// WithReverseProxy (send through API Management; tokens still name the
// service), WithRetry, WithLogger, WithUserAgent, WithTracingProvider and
// WithTokenScope. Without WithHTTPClient, clients share one transport that
// keeps 128 idle connections per host, with 10 s dial and TLS handshake
// timeouts; with or without it, a redirect to another scheme, host or port
// is refused, so credentials never follow one.
//
// # Sending messages
//
// A Message is built by JSON (any Go value, encoded with encoding/json),
// RawJSON (already-encoded JSON), Text (text/plain), Binary
// (application/octet-stream) or Stream / BinaryReader (a reader, for large
// payloads). Send it to the whole hub, a user, a connection or a group:
//
//	err := client.SendToAll(ctx, webpubsub.JSON(event), nil)
//	err = client.SendToUser(ctx, "alice", webpubsub.Text("hi"), nil)
//	err = client.SendToConnection(ctx, connID, webpubsub.Binary(frame), nil)
//	err = client.SendToGroup(ctx, "room-1", webpubsub.Text("hello room"), &webpubsub.SendToGroupOptions{
//		Excluded: []string{senderConnID},
//		TTL:      30 * time.Second,
//	})
//
// Each send has an options struct with exactly the parameters the API
// allows for it: Filter (SendToAll, SendToUser, SendToGroup), Excluded
// (SendToAll, SendToGroup) and TTL, a time.Duration of whole seconds from
// 1s to 5m (0: never expires). A send returns once the service accepted the
// message; delivery is asynchronous, and an unknown user, connection or
// group is not an error.
//
// # Filters
//
// Filter builds an OData filter from a template, quoting every value so
// that user input can never change what the filter means:
//
//	f, err := webpubsub.Filter("userId ne {} and not({} in groups)", sender, "muted")
//	err = client.SendToAll(ctx, msg, &webpubsub.SendToAllOptions{Filter: f})
//
// # Groups, users, connections and permissions
//
// Group returns a GroupClient for one group (Send, AddConnection,
// RemoveConnection, AddUser, RemoveUser, Exists, CloseConnections,
// ListConnections). The Client has the same operations plus
// RemoveConnectionFromAllGroups, RemoveUserFromAllGroups,
// AddConnectionsToGroups and RemoveConnectionsFromGroups (by filter),
// CloseConnection, CloseAllConnections, CloseUserConnections,
// GrantPermission, RevokePermission and CheckHealth.
//
// ConnectionExists, UserExists, GroupExists and HasPermission return
// (bool, error): 200 is true, 404 is false with a nil error, and anything
// else is an error.
//
// ListConnectionsInGroup (and GroupClient.ListConnections) returns an
// iter.Seq2 that fetches pages as the loop needs them:
//
//	for m, err := range client.Group("room-1").ListConnections(ctx, nil) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(m.ConnectionID, m.UserID)
//	}
//
// ListConnectionsInGroupPages yields the same members a page at a time,
// each page with the continuation token that resumes the listing after it
// (ListConnectionsOptions.ContinuationToken), for listings resumed after a
// crash or split across requests.
//
// # Client access tokens
//
// ClientAccessToken returns the token and URL a WebSocket client connects
// with. With an access key it is signed locally; with Entra ID the service
// mints it. TokenOptions sets the user id, roles, groups to join, lifetime
// (default one hour), protocol (ClientProtocolDefault, ClientProtocolMQTT,
// ClientProtocolSocketIO) and extra JWT header fields:
//
//	tok, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{
//		UserID: "alice",
//		Roles:  []string{"webpubsub.joinLeaveGroup.room-1", "webpubsub.sendToGroup.room-1"},
//	})
//	// hand tok.URL (wss://…/client/hubs/chat?access_token=…) to the browser
//
// # Errors
//
// Bad input is refused before any request with an error wrapping
// ErrInvalidArgument that says what is wrong. A response with a status the
// operation does not expect is a *ResponseError with the operation, method,
// URL (without query), status, the service's error code and a bounded
// excerpt of the body. Anything else (a refused connection, a cancelled
// context) is returned wrapped, so errors.Is(err, context.Canceled) works.
// No error text, log line or String output contains an access key or a
// token: every string taken from a response passes one redaction filter.
// errors.As also fills an *azcore.ResponseError, for error handling shared
// with other Azure SDKs.
//
//	var re *webpubsub.ResponseError
//	switch {
//	case errors.Is(err, webpubsub.ErrInvalidArgument):
//		// fix the call
//	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
//		// check the key or the role assignment
//	}
//
// # Retries
//
// Failed tries are retried with exponential backoff and jitter (3 retries,
// 800 ms initial delay, 60 s cap by default), honouring Retry-After, on
// 408, 429, 500, 502, 503 and 504 and on transport errors. GET, HEAD, PUT
// and DELETE operations are idempotent and retry freely. Sends and other
// POSTs could be applied twice, so they retry only when the request surely
// did not reach the service (connection refused, 429, 503 with Retry-After),
// unless RetryOptions.RetryNonIdempotent is set. Bodies are replayed
// exactly; a Stream message whose reader cannot seek is sent once and never
// retried. Cancelling the context stops a wait at once.
//
// # Request ids and tracing
//
// Every operation sends an x-ms-client-request-id header: a random UUID,
// the same on every try, logged and kept in ResponseError.RequestID, for
// correlating with the service's logs. WithClientRequestID(ctx, id) sends
// the caller's own id instead. WithTracingProvider records one span per
// operation (per page when listing) with an azcore tracing.Provider, for
// example OpenTelemetry's through azotel.
//
// # Logging
//
// WithLogger logs each try to a *slog.Logger: operation, method, URL with
// secret query values redacted, client request id, status or error,
// duration, attempt and the retry delay. Headers and bodies are never logged. By default nothing is
// logged.
//
// # Testing
//
// The package webpubsub/webpubsubtest runs an in-process Web PubSub service
// for tests; point a Client at its URL.
package webpubsub
