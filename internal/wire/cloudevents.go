package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"strings"
)

// CloudEvents upstream: the service POSTs every client event to the app's
// event handler in CloudEvents binary content mode (attributes in ce-*
// headers, data in the body). Header names are written as the service sends
// them; HTTP header names are case-insensitive.
const (
	HeaderCESpecVersion     = "ce-specversion"
	HeaderCEAWPSVersion     = "ce-awpsversion"
	HeaderCEType            = "ce-type"
	HeaderCESource          = "ce-source"
	HeaderCEID              = "ce-id"
	HeaderCETime            = "ce-time"
	HeaderCEHub             = "ce-hub"
	HeaderCEConnectionID    = "ce-connectionId"
	HeaderCEEventName       = "ce-eventName"
	HeaderCEUserID          = "ce-userId"
	HeaderCESubprotocol     = "ce-subprotocol"
	HeaderCEConnectionState = "ce-connectionState"
	HeaderCESignature       = "ce-signature"
)

// Abuse protection (CloudEvents webhook validation): the service sends
// OPTIONS with WebHook-Request-Origin set to its host; the handler allows
// delivery by answering WebHook-Allowed-Origin with that host or "*".
// POSTed events carry WebHook-Request-Origin too.
const (
	HeaderWebHookRequestOrigin = "WebHook-Request-Origin"
	HeaderWebHookAllowedOrigin = "WebHook-Allowed-Origin"
	// CEAllowAllOrigins is the WebHook-Allowed-Origin value that allows any origin.
	CEAllowAllOrigins = "*"
)

// Values of the version headers.
const (
	// CESpecVersion is the ce-specversion value (CloudEvents 1.0).
	CESpecVersion = "1.0"
	// CEAWPSVersion is the ce-awpsversion value. Handlers use the header's
	// presence to recognise a Web PubSub request.
	CEAWPSVersion = "1.0"
)

// ce-type values. User events are CETypeUserPrefix followed by the event
// name: "message" for simple WebSocket clients, the client's event name for
// PubSub clients (see CEUserType).
const (
	CETypeSystemPrefix = "azure.webpubsub.sys."
	CETypeUserPrefix   = "azure.webpubsub.user."
	CETypeConnect      = CETypeSystemPrefix + CEEventConnect
	CETypeConnected    = CETypeSystemPrefix + CEEventConnected
	CETypeDisconnected = CETypeSystemPrefix + CEEventDisconnected
)

// ce-eventName values of the system events and of simple WebSocket frames.
const (
	CEEventConnect      = "connect"
	CEEventConnected    = "connected"
	CEEventDisconnected = "disconnected"
	// CEEventMessage is the user event a simple WebSocket client's frame raises.
	CEEventMessage = "message"
	// CEEventValidate replaces {event} in the handler URL of the abuse-protection request.
	CEEventValidate = "validate"
)

// Placeholders an event handler URL template may contain.
const (
	CEURLEventPlaceholder = "{event}"
	CEURLHubPlaceholder   = "{hub}"
)

// CESignaturePrefix starts each value in the ce-signature list.
const CESignaturePrefix = "sha256="

// CEUserType returns the ce-type of the user event named event.
func CEUserType(event string) string { return CETypeUserPrefix + event }

// CESource returns the ce-source of an event raised by a connection.
func CESource(hub, connectionID string) string {
	return "/hubs/" + hub + "/client/" + connectionID
}

// SignCloudEvent returns one ce-signature value: "sha256=" followed by the
// lowercase hex HMAC-SHA256 of connectionID (UTF-8) keyed with the access
// key (UTF-8).
func SignCloudEvent(key, connectionID string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(connectionID))
	return CESignaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// CESignatureHeader returns the ce-signature header value for connectionID:
// one SignCloudEvent value per non-empty key (primary, then secondary),
// comma-separated.
func CESignatureHeader(connectionID string, keys ...string) string {
	values := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			values = append(values, SignCloudEvent(k, connectionID))
		}
	}
	return strings.Join(values, ",")
}

// CEContentType returns the Content-Type of a user event (request to the
// handler, or the handler's reply) that carries data of the client
// protocol's dataType ("json", "text" or "binary"). ok is false for any
// other data type.
func CEContentType(dataType string) (contentType string, ok bool) {
	switch dataType {
	case DataTypeJSON:
		return ContentTypeJSON, true
	case DataTypeText:
		return ContentTypeText, true
	case DataTypeBinary:
		return ContentTypeBinary, true
	}
	return "", false
}

// CEDataType returns the client protocol's dataType for a user event's
// Content-Type header value. Parameters such as "; charset=utf-8" are
// ignored and the media type is matched case-insensitively. ok is false when
// the header is empty, malformed or names another media type.
func CEDataType(contentType string) (dataType string, ok bool) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", false
	}
	switch mediaType { // ParseMediaType lowercases the media type
	case ContentTypeJSON:
		return DataTypeJSON, true
	case ContentTypeText:
		return DataTypeText, true
	case ContentTypeBinary:
		return DataTypeBinary, true
	}
	return "", false
}

// CEConnectBody is the JSON body of a connect event.
type CEConnectBody struct {
	Claims             map[string]CEStrings  `json:"claims"`
	Query              map[string]CEStrings  `json:"query"`
	Headers            map[string]CEStrings  `json:"headers"`
	Subprotocols       []string              `json:"subprotocols"`
	ClientCertificates []CEClientCertificate `json:"clientCertificates"`
}

// CEClientCertificate is a client certificate in a connect event's body.
type CEClientCertificate struct {
	Thumbprint string `json:"thumbprint"`
	Content    string `json:"content,omitempty"`
}

// CEConnectResponse is the JSON body of a 200 answer to a connect event.
// Empty fields are omitted: the service then keeps what the client's token
// says (and an empty subprotocol must not be sent at all).
type CEConnectResponse struct {
	UserID      string   `json:"userId,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	Subprotocol string   `json:"subprotocol,omitempty"`
}

// CEDisconnectedBody is the JSON body of a disconnected event.
type CEDisconnectedBody struct {
	Reason string `json:"reason,omitempty"`
}

// CEStrings is a list of strings (claim, query or header values). It also
// decodes from a single JSON string, as some senders write one-valued
// claims.
type CEStrings []string

// UnmarshalJSON accepts a JSON string, an array of strings or null.
func (l *CEStrings) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*l = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = CEStrings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*l = many
	return nil
}
