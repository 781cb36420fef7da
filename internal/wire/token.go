package wire

import "strings"

// JWT claim names used in client access tokens.
const (
	// ClaimSubject holds the user id a client connects as.
	ClaimSubject = "sub"
	// ClaimRole holds the client's roles, as a JSON array of strings.
	ClaimRole = "role"
	// ClaimGroup holds the groups a client joins on connect, as a JSON array.
	ClaimGroup = "webpubsub.group"
	// ClaimAudience, ClaimExpiry, ClaimIssuedAt and ClaimNotBefore are the
	// registered JWT claims the service reads.
	ClaimAudience  = "aud"
	ClaimExpiry    = "exp"
	ClaimIssuedAt  = "iat"
	ClaimNotBefore = "nbf"
)

// Role strings. A role may be followed by "." and a group name to limit it
// to that group, e.g. "webpubsub.joinLeaveGroup.chat".
const (
	RoleJoinLeaveGroup = "webpubsub.joinLeaveGroup"
	RoleSendToGroup    = "webpubsub.sendToGroup"
)

// Client paths by protocol, each followed by the escaped hub name.
const (
	ClientPathDefault  = "/client/hubs/"
	ClientPathMQTT     = "/clients/mqtt/hubs/"
	ClientPathSocketIO = "/clients/socketio/hubs/"
)

// QueryAccessToken is the query parameter that carries a client's token.
const QueryAccessToken = "access_token"

// EntraScope is the Microsoft Entra ID scope for the data-plane REST API.
const EntraScope = "https://webpubsub.azure.com/.default"

// HeaderErrorCode carries the service's error code on error responses.
const HeaderErrorCode = "x-ms-error-code"

// WebSocketScheme turns an http(s) URL into its ws(s) form. Any other
// scheme is returned unchanged.
func WebSocketScheme(u string) string {
	switch {
	case strings.HasPrefix(u, "https://"):
		return "wss://" + u[len("https://"):]
	case strings.HasPrefix(u, "http://"):
		return "ws://" + u[len("http://"):]
	}
	return u
}
