package wire

import "net/http"

// MQTT clients' CloudEvents. The service sends an MQTT client's connect,
// connected and disconnected events with the same ce-type values and
// headers as a WebSocket client's (ce-subprotocol is "mqtt"), plus the
// headers below, and the connect and disconnected bodies carry an extra
// "mqtt" object. The service's specification of MQTT CloudEvents defines
// these three events only, no user events.
const (
	// HeaderCEPhysicalConnectionID identifies the network connection the
	// event came from. An MQTT session (ce-connectionId, the MQTT client
	// id) may outlive several network connections. Present on every MQTT
	// event.
	HeaderCEPhysicalConnectionID = "ce-physicalConnectionId"
	// HeaderCESessionID identifies the MQTT session. Present on MQTT
	// connected and disconnected events, absent on connect.
	HeaderCESessionID = "ce-sessionId"
)

// MQTT protocol versions, as the connect event's mqtt.protocolVersion
// carries them (the CONNECT packet's protocol level).
const (
	MQTTProtocolVersion311 = 4 // MQTT 3.1.1
	MQTTProtocolVersion5   = 5 // MQTT 5.0
)

// MQTT 3.1.1 CONNACK return codes a handler may reject a connect with.
const (
	MQTT311UnacceptableProtocolVersion = 0x01
	MQTT311IdentifierRejected          = 0x02
	MQTT311ServerUnavailable           = 0x03
	MQTT311BadUsernameOrPassword       = 0x04
	MQTT311NotAuthorized               = 0x05
)

// MQTT 5.0 CONNACK reason codes a handler may reject a connect with.
const (
	MQTT5UnspecifiedError            = 0x80
	MQTT5MalformedPacket             = 0x81
	MQTT5ProtocolError               = 0x82
	MQTT5ImplementationSpecificError = 0x83
	MQTT5UnsupportedProtocolVersion  = 0x84
	MQTT5ClientIdentifierNotValid    = 0x85
	MQTT5BadUserNameOrPassword       = 0x86
	MQTT5NotAuthorized               = 0x87
	MQTT5ServerUnavailable           = 0x88
	MQTT5ServerBusy                  = 0x89
	MQTT5Banned                      = 0x8A
	MQTT5BadAuthenticationMethod     = 0x8C
	MQTT5TopicNameInvalid            = 0x90
	MQTT5PacketTooLarge              = 0x95
	MQTT5QuotaExceeded               = 0x97
	MQTT5PayloadFormatInvalid        = 0x99
	MQTT5RetainNotSupported          = 0x9A
	MQTT5QoSNotSupported             = 0x9B
	MQTT5UseAnotherServer            = 0x9C
	MQTT5ServerMoved                 = 0x9D
	MQTT5ConnectionRateExceeded      = 0x9F
)

// CEMQTTUserProperty is one MQTT user property (a name/value pair) in an
// event body or an answer.
type CEMQTTUserProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CEMQTTConnectBody is the JSON body of an MQTT client's connect event: the
// fields of every connect event plus "mqtt".
type CEMQTTConnectBody struct {
	CEConnectBody
	MQTT *CEMQTTConnectProperties `json:"mqtt,omitempty"`
}

// CEMQTTConnectProperties is the "mqtt" object of a connect event: what the
// client's CONNECT packet said.
type CEMQTTConnectProperties struct {
	// ProtocolVersion is MQTTProtocolVersion311 or MQTTProtocolVersion5.
	ProtocolVersion int `json:"protocolVersion"`
	// Username is the CONNECT packet's user name; absent when it had none.
	Username *string `json:"username,omitempty"`
	// Password is the CONNECT packet's password, standard base64; absent
	// when it had none.
	Password *string `json:"password,omitempty"`
	// UserProperties are the CONNECT packet's user properties (MQTT 5).
	UserProperties []CEMQTTUserProperty `json:"userProperties,omitempty"`
}

// CEMQTTConnectResponse is the JSON body of a 200 answer to an MQTT
// connect event: the fields of every connect answer plus "mqtt", whose
// user properties the service puts in the CONNACK packet (MQTT 5).
type CEMQTTConnectResponse struct {
	CEConnectResponse
	MQTT *CEMQTTConnectResponseProperties `json:"mqtt,omitempty"`
}

// CEMQTTConnectResponseProperties is the "mqtt" object of an accepted MQTT
// connect.
type CEMQTTConnectResponseProperties struct {
	UserProperties []CEMQTTUserProperty `json:"userProperties,omitempty"`
}

// CEMQTTConnectFailure is the JSON body of a rejecting (non-2xx) answer to
// an MQTT connect event. The service sends Code to the client in the
// CONNACK packet (a return code for MQTT 3.1.1, a reason code for MQTT 5),
// and Reason and UserProperties to MQTT 5 clients.
type CEMQTTConnectFailure struct {
	MQTT CEMQTTConnectFailureProperties `json:"mqtt"`
}

// CEMQTTConnectFailureProperties is the "mqtt" object of a rejected MQTT
// connect.
type CEMQTTConnectFailureProperties struct {
	Code           int                  `json:"code"`
	Reason         string               `json:"reason,omitempty"`
	UserProperties []CEMQTTUserProperty `json:"userProperties,omitempty"`
}

// CEMQTTDisconnectedBody is the JSON body of an MQTT client's disconnected
// event: the fields of every disconnected event plus "mqtt".
type CEMQTTDisconnectedBody struct {
	CEDisconnectedBody
	MQTT *CEMQTTDisconnectedProperties `json:"mqtt,omitempty"`
}

// CEMQTTDisconnectedProperties is the "mqtt" object of a disconnected
// event.
type CEMQTTDisconnectedProperties struct {
	// InitiatedByClient reports whether the client ended the session.
	InitiatedByClient bool `json:"initiatedByClient"`
	// DisconnectPacket is the DISCONNECT packet that ended the last
	// network connection, sent by the client or the service; absent when
	// there was none.
	DisconnectPacket *CEMQTTDisconnectPacket `json:"disconnectPacket,omitempty"`
}

// CEMQTTDisconnectPacket describes a DISCONNECT packet.
type CEMQTTDisconnectPacket struct {
	// Code is the MQTT 5 DISCONNECT reason code; always 0 for MQTT 3.1.1.
	Code int `json:"code"`
	// UserProperties are the packet's user properties (MQTT 5).
	UserProperties []CEMQTTUserProperty `json:"userProperties,omitempty"`
}

// MQTTConnectCodeForStatus returns the CONNACK code that stands for an
// event handler's rejecting HTTP status, as the official handlers map it:
// 400 is a bad user name or password, 401 and 403 are not authorized, and
// anything else is a server error (3.1.1: server unavailable; 5:
// unspecified error). For a protocol version other than 3.1.1 or 5 it is
// MQTT311UnacceptableProtocolVersion.
func MQTTConnectCodeForStatus(status, protocolVersion int) int {
	switch protocolVersion {
	case MQTTProtocolVersion311:
		switch status {
		case http.StatusBadRequest:
			return MQTT311BadUsernameOrPassword
		case http.StatusUnauthorized, http.StatusForbidden:
			return MQTT311NotAuthorized
		}
		return MQTT311ServerUnavailable
	case MQTTProtocolVersion5:
		switch status {
		case http.StatusBadRequest:
			return MQTT5BadUserNameOrPassword
		case http.StatusUnauthorized, http.StatusForbidden:
			return MQTT5NotAuthorized
		}
		return MQTT5UnspecifiedError
	}
	return MQTT311UnacceptableProtocolVersion
}

// MQTTStatusForConnectCode returns the HTTP status of a rejecting answer
// that carries CONNACK code, as the official handlers choose it: 401 for
// authentication failures, 403 for a banned client, 429 for rate and quota
// limits, 503 for an unavailable MQTT 3.1.1 server, 400 for the client's
// mistakes and 500 for anything else (including codes that are not
// failures).
func MQTTStatusForConnectCode(code int) int {
	switch code {
	case MQTT311BadUsernameOrPassword, MQTT311NotAuthorized, MQTT5BadUserNameOrPassword, MQTT5NotAuthorized:
		return http.StatusUnauthorized
	case MQTT311UnacceptableProtocolVersion, MQTT311IdentifierRejected,
		MQTT5MalformedPacket, MQTT5ImplementationSpecificError, MQTT5UnsupportedProtocolVersion,
		MQTT5ClientIdentifierNotValid, MQTT5BadAuthenticationMethod, MQTT5TopicNameInvalid, MQTT5PacketTooLarge,
		MQTT5PayloadFormatInvalid, MQTT5RetainNotSupported, MQTT5QoSNotSupported:
		return http.StatusBadRequest
	case MQTT311ServerUnavailable:
		return http.StatusServiceUnavailable
	case MQTT5Banned:
		return http.StatusForbidden
	case MQTT5QuotaExceeded, MQTT5ConnectionRateExceeded:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}
