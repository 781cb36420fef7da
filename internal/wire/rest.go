package wire

// REST API facts shared by the SDK (webpubsub) and the emulator.

// QueryAPIVersion is the query parameter every REST call carries.
const QueryAPIVersion = "api-version"

// REST api-versions the service has shipped as stable, oldest first.
const (
	APIVersion20211001 = "2021-10-01"
	APIVersion20221101 = "2022-11-01"
	APIVersion20230701 = "2023-07-01"
	APIVersion20240101 = "2024-01-01"
	APIVersion20241201 = "2024-12-01"
)

// HubPattern is the service's rule for hub names: a letter, then up to 127
// letters, digits or any of _ ` , . [ ].
const HubPattern = "^[A-Za-z][A-Za-z0-9_`,.[\\]]{0,127}$"

// MaxMessageTTLSeconds is the largest messageTtlSeconds a send accepts.
const MaxMessageTTLSeconds = 300

// MaxPageSize is the largest maxpagesize ListConnectionsInGroup accepts.
const MaxPageSize = 200

// Values of the clientType query parameter of :generateToken. The service
// reads them case-insensitively.
const (
	ClientTypeDefault  = "Default"
	ClientTypeMQTT     = "MQTT"
	ClientTypeSocketIO = "SocketIO"
)

// HTTP header names the REST API relies on.
const (
	HeaderAuthorization = "Authorization"
	HeaderRetryAfter    = "Retry-After"
	HeaderUserAgent     = "User-Agent"
	HeaderContentType   = "Content-Type"
	// HeaderClientRequestID is the id a client gives one operation, the
	// same on every try, for correlating with the service's logs.
	HeaderClientRequestID = "X-Ms-Client-Request-Id"
	// HeaderRequestID is the id the service gives one request.
	HeaderRequestID = "X-Ms-Request-Id"
)
