package mqtt

import "fmt"

// Protocol levels of the CONNECT packet.
const (
	Version311 byte = 4 // MQTT 3.1.1
	Version5   byte = 5 // MQTT 5.0
)

// PacketType is the control packet type of the fixed header (bits 7-4).
type PacketType byte

// Control packet types.
const (
	TypeConnect     PacketType = 1
	TypeConnack     PacketType = 2
	TypePublish     PacketType = 3
	TypePuback      PacketType = 4
	TypePubrec      PacketType = 5
	TypePubrel      PacketType = 6
	TypePubcomp     PacketType = 7
	TypeSubscribe   PacketType = 8
	TypeSuback      PacketType = 9
	TypeUnsubscribe PacketType = 10
	TypeUnsuback    PacketType = 11
	TypePingreq     PacketType = 12
	TypePingresp    PacketType = 13
	TypeDisconnect  PacketType = 14
	TypeAuth        PacketType = 15
)

var typeNames = [...]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", byte(t))
}

// MQTT 3.1.1 CONNACK return codes (MQTT 3.1.1 §3.2.2.3) and the SUBACK
// failure code (§3.9.3).
const (
	ConnAccepted              byte = 0x00
	ConnRefusedVersion        byte = 0x01
	ConnRefusedIdentifier     byte = 0x02
	ConnRefusedUnavailable    byte = 0x03
	ConnRefusedBadCredentials byte = 0x04
	ConnRefusedNotAuthorized  byte = 0x05
	SubackFailure311          byte = 0x80
)

// MaxRemainingLength is the largest remaining length a fixed header can
// encode (four bytes of variable byte integer).
const MaxRemainingLength = 268435455

// MQTT 5.0 reason codes (MQTT 5.0 §2.4) used by the codec and the broker.
const (
	CodeSuccess                     byte = 0x00 // also Normal disconnection, Granted QoS 0
	CodeGrantedQoS1                 byte = 0x01
	CodeGrantedQoS2                 byte = 0x02
	CodeDisconnectWithWill          byte = 0x04
	CodeNoMatchingSubscribers       byte = 0x10
	CodeNoSubscriptionExisted       byte = 0x11
	CodeUnspecifiedError            byte = 0x80
	CodeMalformedPacket             byte = 0x81
	CodeProtocolError               byte = 0x82
	CodeImplementationSpecific      byte = 0x83
	CodeUnsupportedProtocolVersion  byte = 0x84
	CodeClientIdentifierNotValid    byte = 0x85
	CodeBadUserNameOrPassword       byte = 0x86
	CodeNotAuthorized               byte = 0x87
	CodeServerUnavailable           byte = 0x88
	CodeServerBusy                  byte = 0x89
	CodeBanned                      byte = 0x8A
	CodeServerShuttingDown          byte = 0x8B
	CodeBadAuthenticationMethod     byte = 0x8C
	CodeKeepAliveTimeout            byte = 0x8D
	CodeSessionTakenOver            byte = 0x8E
	CodeTopicFilterInvalid          byte = 0x8F
	CodeTopicNameInvalid            byte = 0x90
	CodePacketIdentifierInUse       byte = 0x91
	CodePacketIdentifierNotFound    byte = 0x92
	CodeReceiveMaximumExceeded      byte = 0x93
	CodeTopicAliasInvalid           byte = 0x94
	CodePacketTooLarge              byte = 0x95
	CodeQuotaExceeded               byte = 0x97
	CodeAdministrativeAction        byte = 0x98
	CodePayloadFormatInvalid        byte = 0x99
	CodeRetainNotSupported          byte = 0x9A
	CodeQoSNotSupported             byte = 0x9B
	CodeSharedSubNotSupported       byte = 0x9E
	CodeSubscriptionIDsNotSupported byte = 0xA1
	CodeWildcardSubNotSupported     byte = 0xA2
)

// Packet is one decoded control packet.
type Packet interface {
	Type() PacketType
}

// Connect is a CONNECT packet.
type Connect struct {
	ProtocolName string // "MQTT"
	Version      byte   // Version311 or Version5
	CleanStart   bool   // Clean Session in 3.1.1
	KeepAlive    uint16 // seconds
	ClientID     string
	Will         *Will
	HasUsername  bool
	Username     string
	HasPassword  bool
	Password     []byte
	Props        Properties
}

// Will is the will message of a CONNECT packet.
type Will struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	Props   Properties // 5.0 will properties
}

// Connack is a CONNACK packet. Code is a 3.1.1 return code or a 5.0 reason code.
type Connack struct {
	SessionPresent bool
	Code           byte
	Props          Properties
}

// Publish is a PUBLISH packet. PacketID is 0 for QoS 0.
type Publish struct {
	Dup      bool
	QoS      byte
	Retain   bool
	Topic    string
	PacketID uint16
	Props    Properties
	Payload  []byte
}

// Ack is a PUBACK, PUBREC, PUBREL or PUBCOMP packet (Kind says which).
type Ack struct {
	Kind     PacketType
	PacketID uint16
	Code     byte // 5.0 reason code; 0 for 3.1.1
	Props    Properties
}

// Subscription is one topic filter of a SUBSCRIBE packet with its options.
type Subscription struct {
	Filter            string
	QoS               byte
	NoLocal           bool // 5.0
	RetainAsPublished bool // 5.0
	RetainHandling    byte // 5.0, 0..2
}

// Subscribe is a SUBSCRIBE packet.
type Subscribe struct {
	PacketID      uint16
	Props         Properties
	Subscriptions []Subscription
}

// Suback is a SUBACK packet: one return/reason code per subscription.
type Suback struct {
	PacketID uint16
	Props    Properties
	Codes    []byte
}

// Unsubscribe is an UNSUBSCRIBE packet.
type Unsubscribe struct {
	PacketID uint16
	Props    Properties
	Filters  []string
}

// Unsuback is an UNSUBACK packet. Codes is empty in 3.1.1.
type Unsuback struct {
	PacketID uint16
	Props    Properties
	Codes    []byte
}

// Pingreq is a PINGREQ packet.
type Pingreq struct{}

// Pingresp is a PINGRESP packet.
type Pingresp struct{}

// Disconnect is a DISCONNECT packet. Code and Props exist in 5.0 only.
type Disconnect struct {
	Code  byte
	Props Properties
}

// Auth is a 5.0 AUTH packet.
type Auth struct {
	Code  byte
	Props Properties
}

// Type implements Packet.
func (*Connect) Type() PacketType { return TypeConnect }

// Type implements Packet.
func (*Connack) Type() PacketType { return TypeConnack }

// Type implements Packet.
func (*Publish) Type() PacketType { return TypePublish }

// Type implements Packet.
func (a *Ack) Type() PacketType { return a.Kind }

// Type implements Packet.
func (*Subscribe) Type() PacketType { return TypeSubscribe }

// Type implements Packet.
func (*Suback) Type() PacketType { return TypeSuback }

// Type implements Packet.
func (*Unsubscribe) Type() PacketType { return TypeUnsubscribe }

// Type implements Packet.
func (*Unsuback) Type() PacketType { return TypeUnsuback }

// Type implements Packet.
func (*Pingreq) Type() PacketType { return TypePingreq }

// Type implements Packet.
func (*Pingresp) Type() PacketType { return TypePingresp }

// Type implements Packet.
func (*Disconnect) Type() PacketType { return TypeDisconnect }

// Type implements Packet.
func (*Auth) Type() PacketType { return TypeAuth }

// Error is a decoding failure with the MQTT 5.0 reason code that answers it
// (CodeMalformedPacket, CodeProtocolError, CodePacketTooLarge,
// CodeUnsupportedProtocolVersion).
type Error struct {
	Code byte
	Msg  string
}

func (e *Error) Error() string { return "mqtt: " + e.Msg }

func malformed(format string, args ...any) error {
	return &Error{Code: CodeMalformedPacket, Msg: fmt.Sprintf(format, args...)}
}

func protocolErr(format string, args ...any) error {
	return &Error{Code: CodeProtocolError, Msg: fmt.Sprintf(format, args...)}
}
