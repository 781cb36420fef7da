package eventhandler

import (
	"testing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// The exported MQTT constants are literals for go doc; they must stay the
// wire's.
func TestMQTTConstantsAreTheWires(t *testing.T) {
	pairs := []struct {
		name      string
		got, want int
	}{
		{"MQTTVersion311", MQTTVersion311, wire.MQTTProtocolVersion311},
		{"MQTTVersion5", MQTTVersion5, wire.MQTTProtocolVersion5},
		{"MQTT311UnacceptableProtocolVersion", int(MQTT311UnacceptableProtocolVersion), wire.MQTT311UnacceptableProtocolVersion},
		{"MQTT311IdentifierRejected", int(MQTT311IdentifierRejected), wire.MQTT311IdentifierRejected},
		{"MQTT311ServerUnavailable", int(MQTT311ServerUnavailable), wire.MQTT311ServerUnavailable},
		{"MQTT311BadUsernameOrPassword", int(MQTT311BadUsernameOrPassword), wire.MQTT311BadUsernameOrPassword},
		{"MQTT311NotAuthorized", int(MQTT311NotAuthorized), wire.MQTT311NotAuthorized},
		{"MQTT5UnspecifiedError", int(MQTT5UnspecifiedError), wire.MQTT5UnspecifiedError},
		{"MQTT5MalformedPacket", int(MQTT5MalformedPacket), wire.MQTT5MalformedPacket},
		{"MQTT5ProtocolError", int(MQTT5ProtocolError), wire.MQTT5ProtocolError},
		{"MQTT5ImplementationSpecificError", int(MQTT5ImplementationSpecificError), wire.MQTT5ImplementationSpecificError},
		{"MQTT5UnsupportedProtocolVersion", int(MQTT5UnsupportedProtocolVersion), wire.MQTT5UnsupportedProtocolVersion},
		{"MQTT5ClientIdentifierNotValid", int(MQTT5ClientIdentifierNotValid), wire.MQTT5ClientIdentifierNotValid},
		{"MQTT5BadUserNameOrPassword", int(MQTT5BadUserNameOrPassword), wire.MQTT5BadUserNameOrPassword},
		{"MQTT5NotAuthorized", int(MQTT5NotAuthorized), wire.MQTT5NotAuthorized},
		{"MQTT5ServerUnavailable", int(MQTT5ServerUnavailable), wire.MQTT5ServerUnavailable},
		{"MQTT5ServerBusy", int(MQTT5ServerBusy), wire.MQTT5ServerBusy},
		{"MQTT5Banned", int(MQTT5Banned), wire.MQTT5Banned},
		{"MQTT5BadAuthenticationMethod", int(MQTT5BadAuthenticationMethod), wire.MQTT5BadAuthenticationMethod},
		{"MQTT5TopicNameInvalid", int(MQTT5TopicNameInvalid), wire.MQTT5TopicNameInvalid},
		{"MQTT5PacketTooLarge", int(MQTT5PacketTooLarge), wire.MQTT5PacketTooLarge},
		{"MQTT5QuotaExceeded", int(MQTT5QuotaExceeded), wire.MQTT5QuotaExceeded},
		{"MQTT5PayloadFormatInvalid", int(MQTT5PayloadFormatInvalid), wire.MQTT5PayloadFormatInvalid},
		{"MQTT5RetainNotSupported", int(MQTT5RetainNotSupported), wire.MQTT5RetainNotSupported},
		{"MQTT5QoSNotSupported", int(MQTT5QoSNotSupported), wire.MQTT5QoSNotSupported},
		{"MQTT5UseAnotherServer", int(MQTT5UseAnotherServer), wire.MQTT5UseAnotherServer},
		{"MQTT5ServerMoved", int(MQTT5ServerMoved), wire.MQTT5ServerMoved},
		{"MQTT5ConnectionRateExceeded", int(MQTT5ConnectionRateExceeded), wire.MQTT5ConnectionRateExceeded},
	}
	for _, p := range pairs {
		if p.got != p.want {
			t.Errorf("%s = %#x, want the wire's %#x", p.name, p.got, p.want)
		}
	}
}
