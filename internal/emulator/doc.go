// Package emulator is a local Azure Web PubSub service for development and
// tests. One in-memory engine (hubs → connections, users, groups and
// permissions) serves several faces:
//
//   - the data-plane REST API of api-version 2024-12-01, implemented on the
//     strict server generated from api/webpubsub.yaml, so routes and
//     parameters cannot drift from the OpenAPI document; requests are
//     authenticated with access-key JWTs exactly as the service does (aud
//     is the full request URL), optionally also with unverified Entra ID
//     tokens; the stable api-versions 2021-10-01 to 2024-12-01 are
//     accepted, and any other value, or a version older than the
//     operation (e.g. ListConnectionsInGroup before 2024-12-01), is
//     answered with 400 UnsupportedApiVersion, as the service does;
//   - the WebSocket client endpoints /client/hubs/{hub} and /client/?hub=,
//     speaking the json.webpubsub.azure.v1 and
//     json.reliable.webpubsub.azure.v1 subprotocols and raw "simple"
//     WebSocket (with webpubsub_mode=sendToGroup&group=<g>, a simple
//     client's frames are published to the group); the protobuf
//     subprotocols are refused with 400, and the Socket.IO client endpoint
//     is not served (its tokens can still be minted);
//   - MQTT 3.1.1 and 5.0 over WebSocket at /clients/mqtt/hubs/{hub}
//     (mqtt*.go, packets by internal/mqtt): a topic is a group, the client
//     ID the connection ID; the service's connect rules with their CONNACK
//     codes; QoS 0/1/2 with downgrade; sessions kept 30 s after a drop;
//     wills; 5.0 message expiry, subscription identifiers, assigned client
//     IDs, receive maximum and server DISCONNECT; wildcard and shared
//     subscriptions, retained messages and topic aliases refused with the
//     documented codes; messages cross to and from the other protocols and
//     the REST API ($webpubsub/server/messages at QoS 1).
//
// Event handlers (WithUpstream; ParseUpstreamSetting and LoadUpstreamConfig
// read settings from a flag or a JSON file) receive client events as the
// service sends them: CloudEvents in binary content mode, signed with every
// access key (ce-signature), after the abuse-protection handshake (OPTIONS
// with WebHook-Request-Origin) of each handler URL. The blocking connect
// event accepts, rejects (the client's handshake fails with the handler's
// 400, 401 or 403, other 4xx as 400; with 500 after a 5xx, a timeout or an
// unreachable handler) or reshapes a client (user id, groups, roles, subprotocol); a user
// event's answer is sent back to the client as a server message, and a failed
// user event closes the connection; connected and disconnected failures are
// only logged. The connection state a handler sets (ce-connectionState) is
// sent with the connection's later events.
//
// Delivery never blocks the engine: every WebSocket has a bounded send
// queue drained by its own writer goroutine, and a client that falls behind
// is disconnected (close code 1008). Reliable connections keep their
// groups and unacknowledged messages for a recovery window after a drop and
// replay them in order, exactly once, when the client reconnects with its
// awps_connection_id and awps_reconnection_token.
//
// Behaviour that differs from or goes beyond the official emulator:
// permissions (grant, revoke, check) are implemented, with token roles
// counting as granted permissions; messageTtlSeconds is enforced when a
// message is about to be written; AddConnectionToGroup and GrantPermission
// answer 404 for a connection that is not open.
//
// User groups are connection-scoped, as on the service (a service
// maintainer in azure-webpubsub#325; the official emulator does the same):
// AddUserToGroup adds the connections the user has open at that moment,
// RemoveUserFromGroup and RemoveUserFromAllGroups remove them, and nothing
// is remembered for the user. A connection the user opens later joins no
// group, so an app adds it again (in its connected handler or with the
// token's groups). A user with no open connection does not exist:
// UserExists answers false and AddUserToGroup answers 404 with
// x-ms-error-code Warning.User.NotExisted, as the service does
// (MicrosoftDocs/azure-docs#81677; service logs quoted in
// Roguelike-Celebration/azure-mud#899). A group exists only while a
// connection is in it (GroupExists).
package emulator
