package wire

// REST API facts shared by the SDK (webpubsub) and the emulator.

// QueryAPIVersion is the query parameter every REST call carries.
const QueryAPIVersion = "api-version"

// QueryContinuationToken is the query parameter of a listing's nextLink
// that says where the next page starts.
const QueryContinuationToken = "continuationToken"

// REST api-versions the service has shipped as stable, oldest first. The
// named ones are the first versions of features the SDK and the emulator
// gate on.
const (
	APIVersion20211001 = "2021-10-01"
	APIVersion20221101 = "2022-11-01"
	APIVersion20230701 = "2023-07-01"
	APIVersion20240101 = "2024-01-01"
	APIVersion20241201 = "2024-12-01"
)

// APIVersion is the api-version api/webpubsub.yaml describes (its
// info.version, checked by a test): the SDK's default, the newest the
// emulator answers, and what tests and tools send. docs/regenerating.md
// walks a change of it.
const APIVersion = APIVersion20241201

// APIVersions returns every api-version the SDK accepts and the emulator
// answers, oldest first; the last is APIVersion. This is the only list.
func APIVersions() []string {
	return []string{APIVersion20211001, APIVersion20221101, APIVersion20230701, APIVersion20240101, APIVersion}
}

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

// MaxGroupNameChars is the longest group name, in characters, the service
// accepts (over REST, from clients and in a connect event's answer).
const MaxGroupNameChars = 1024
