package wire

// WebSocket subprotocols a client may offer. Any other value, or none,
// makes a "simple" WebSocket client that exchanges raw payloads.
const (
	SubprotocolJSON             = "json.webpubsub.azure.v1"
	SubprotocolJSONReliable     = "json.reliable.webpubsub.azure.v1"
	SubprotocolProtobuf         = "protobuf.webpubsub.azure.v1"
	SubprotocolProtobufReliable = "protobuf.reliable.webpubsub.azure.v1"
)

// Query parameters of a client's recovery URL (reliable subprotocols): the
// original connect URL plus the connection id and its reconnection token.
const (
	QueryConnectionID      = "awps_connection_id"
	QueryReconnectionToken = "awps_reconnection_token"
)

// QueryHub names the hub on the query form of the client endpoint
// (/client/?hub=<hub>).
const QueryHub = "hub"

// ClientPathQueryHub is the client endpoint that takes the hub from the
// QueryHub query parameter instead of the path.
const ClientPathQueryHub = "/client/"

// Values of the "type" field of JSON subprotocol messages.
const (
	// Client → service.
	TypeJoinGroup   = "joinGroup"
	TypeLeaveGroup  = "leaveGroup"
	TypeSendToGroup = "sendToGroup"
	TypeEvent       = "event"
	TypeSequenceAck = "sequenceAck"
	TypePing        = "ping"

	// Service → client.
	TypeSystem  = "system"
	TypeAck     = "ack"
	TypeMessage = "message"
	TypePong    = "pong"
)

// Values of the "event" field of "system" messages.
const (
	SystemEventConnected    = "connected"
	SystemEventDisconnected = "disconnected"
)

// Values of the "from" field of "message" messages.
const (
	FromGroup  = "group"
	FromServer = "server"
)

// Values of the "dataType" field.
const (
	DataTypeJSON     = "json"
	DataTypeText     = "text"
	DataTypeBinary   = "binary"
	DataTypeProtobuf = "protobuf"
)

// Values of error.name in an ack with success=false.
const (
	AckErrorForbidden  = "Forbidden"
	AckErrorInternal   = "InternalServerError"
	AckErrorDuplicate  = "Duplicate"
	AckErrorBadRequest = "BadRequest"
	AckErrorNotFound   = "NotFound"
	AckErrorTimeout    = "Timeout"
)

// WebSocket close codes with a protocol meaning.
const (
	// CloseNormal ends a connection normally (RFC 6455 1000).
	CloseNormal = 1000
	// CloseGoingAway is sent when the service shuts down (RFC 6455 1001).
	CloseGoingAway = 1001
	// ClosePolicyViolation (RFC 6455 1008) tells a reliable client that its
	// connection cannot be recovered: it must start a new one.
	ClosePolicyViolation = 1008
	// CloseInvalidPayload (RFC 6455 1007) ends a connection that sent a
	// text frame that is not valid UTF-8 (RFC 6455 §8.1).
	CloseInvalidPayload = 1007
	// CloseInternalError (RFC 6455 1011) ends a connection the service
	// cannot go on serving because of a fault of its own.
	CloseInternalError = 1011
)

// Message content types accepted by the REST send operations.
const (
	ContentTypeJSON   = "application/json"
	ContentTypeText   = "text/plain"
	ContentTypeBinary = "application/octet-stream"
)

// Query parameters that put a simple WebSocket client in publish mode:
// with QueryMode=ModeSendToGroup and QueryGroup=<group>, every frame the
// client sends is published to that group instead of raised as an event.
const (
	QueryMode       = "webpubsub_mode"
	QueryGroup      = "group"
	ModeSendToGroup = "sendToGroup"
)
