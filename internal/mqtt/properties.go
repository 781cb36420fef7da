package mqtt

// Properties are the MQTT 5.0 properties of a packet (MQTT 5.0 §2.2.2).
// A pointer or Has field tells a property that is absent from one that is
// present with its zero value, so that packets round-trip byte for byte.
type Properties struct {
	PayloadFormat        *byte   // 0x01
	MessageExpiry        *uint32 // 0x02, seconds
	HasContentType       bool
	ContentType          string // 0x03
	HasResponseTopic     bool
	ResponseTopic        string // 0x08
	CorrelationData      []byte // 0x09; nil when absent
	SubscriptionIDs      []int  // 0x0B, each 1..268435455
	SessionExpiry        *uint32
	HasAssignedClientID  bool
	AssignedClientID     string  // 0x12
	ServerKeepAlive      *uint16 // 0x13
	HasAuthMethod        bool
	AuthMethod           string  // 0x15
	AuthData             []byte  // 0x16; nil when absent
	RequestProblemInfo   *byte   // 0x17
	WillDelay            *uint32 // 0x18
	RequestResponseInfo  *byte   // 0x19
	HasResponseInfo      bool
	ResponseInfo         string // 0x1A
	HasServerReference   bool
	ServerReference      string // 0x1C
	HasReasonString      bool
	ReasonString         string  // 0x1F
	ReceiveMaximum       *uint16 // 0x21
	TopicAliasMaximum    *uint16 // 0x22
	TopicAlias           *uint16 // 0x23
	MaximumQoS           *byte   // 0x24
	RetainAvailable      *byte   // 0x25
	UserProperties       []UserProperty
	MaximumPacketSize    *uint32 // 0x27
	WildcardSubAvailable *byte   // 0x28
	SubIDAvailable       *byte   // 0x29
	SharedSubAvailable   *byte   // 0x2A
}

// UserProperty is one 0x26 name/value pair; order and repetition are kept.
type UserProperty struct {
	Key, Value string
}

// Property identifiers.
const (
	propPayloadFormat        = 0x01
	propMessageExpiry        = 0x02
	propContentType          = 0x03
	propResponseTopic        = 0x08
	propCorrelationData      = 0x09
	propSubscriptionID       = 0x0B
	propSessionExpiry        = 0x11
	propAssignedClientID     = 0x12
	propServerKeepAlive      = 0x13
	propAuthMethod           = 0x15
	propAuthData             = 0x16
	propRequestProblemInfo   = 0x17
	propWillDelay            = 0x18
	propRequestResponseInfo  = 0x19
	propResponseInfo         = 0x1A
	propServerReference      = 0x1C
	propReasonString         = 0x1F
	propReceiveMaximum       = 0x21
	propTopicAliasMaximum    = 0x22
	propTopicAlias           = 0x23
	propMaximumQoS           = 0x24
	propRetainAvailable      = 0x25
	propUserProperty         = 0x26
	propMaximumPacketSize    = 0x27
	propWildcardSubAvailable = 0x28
	propSubIDAvailable       = 0x29
	propSharedSubAvailable   = 0x2A
)

// propWill is the pseudo packet type of will properties in the allowed table.
const propWill PacketType = 0

func bit(ts ...PacketType) uint32 {
	var m uint32
	for _, t := range ts {
		m |= 1 << t
	}
	return m
}

// allowedIn says in which packets each property may appear (MQTT 5.0 §2.2.2.2).
var allowedIn = map[byte]uint32{
	propPayloadFormat:        bit(TypePublish, propWill),
	propMessageExpiry:        bit(TypePublish, propWill),
	propContentType:          bit(TypePublish, propWill),
	propResponseTopic:        bit(TypePublish, propWill),
	propCorrelationData:      bit(TypePublish, propWill),
	propSubscriptionID:       bit(TypePublish, TypeSubscribe),
	propSessionExpiry:        bit(TypeConnect, TypeConnack, TypeDisconnect),
	propAssignedClientID:     bit(TypeConnack),
	propServerKeepAlive:      bit(TypeConnack),
	propAuthMethod:           bit(TypeConnect, TypeConnack, TypeAuth),
	propAuthData:             bit(TypeConnect, TypeConnack, TypeAuth),
	propRequestProblemInfo:   bit(TypeConnect),
	propWillDelay:            bit(propWill),
	propRequestResponseInfo:  bit(TypeConnect),
	propResponseInfo:         bit(TypeConnack),
	propServerReference:      bit(TypeConnack, TypeDisconnect),
	propReasonString:         bit(TypeConnack, TypePuback, TypePubrec, TypePubrel, TypePubcomp, TypeSuback, TypeUnsuback, TypeDisconnect, TypeAuth),
	propReceiveMaximum:       bit(TypeConnect, TypeConnack),
	propTopicAliasMaximum:    bit(TypeConnect, TypeConnack),
	propTopicAlias:           bit(TypePublish),
	propMaximumQoS:           bit(TypeConnack),
	propRetainAvailable:      bit(TypeConnack),
	propUserProperty:         0xFFFF, // every packet with properties
	propMaximumPacketSize:    bit(TypeConnect, TypeConnack),
	propWildcardSubAvailable: bit(TypeConnack),
	propSubIDAvailable:       bit(TypeConnack),
	propSharedSubAvailable:   bit(TypeConnack),
}

// decodeProperties reads a property length and the properties of packet
// type t from d.
func (d *decoder) properties(t PacketType) (Properties, error) {
	var p Properties
	n, err := d.varint()
	if err != nil {
		return p, err
	}
	if n > len(d.b) {
		return p, malformed("%s property length %d is longer than the %d bytes left in the packet", t, n, len(d.b))
	}
	pd := &decoder{b: d.b[:n]}
	d.b = d.b[n:]
	seen := map[byte]bool{}
	for len(pd.b) > 0 {
		id, _ := pd.byte()
		mask, known := allowedIn[id]
		if !known {
			return p, malformed("unknown property identifier 0x%02X in %s", id, t)
		}
		if mask&(1<<t) == 0 {
			return p, protocolErr("property 0x%02X is not allowed in %s", id, t)
		}
		if id != propUserProperty && id != propSubscriptionID && seen[id] {
			return p, protocolErr("property 0x%02X appears twice in %s", id, t)
		}
		seen[id] = true
		if err := pd.property(id, &p); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (d *decoder) property(id byte, p *Properties) error {
	var err error
	switch id {
	case propPayloadFormat:
		p.PayloadFormat, err = d.bytePtr()
		if err == nil && *p.PayloadFormat > 1 {
			return protocolErr("payload format indicator %d is not 0 or 1", *p.PayloadFormat)
		}
	case propMessageExpiry:
		p.MessageExpiry, err = d.u32Ptr()
	case propContentType:
		p.HasContentType = true
		p.ContentType, err = d.str()
	case propResponseTopic:
		p.HasResponseTopic = true
		p.ResponseTopic, err = d.str()
	case propCorrelationData:
		p.CorrelationData, err = d.bin()
	case propSubscriptionID:
		var v int
		if v, err = d.varint(); err == nil {
			if v == 0 {
				return protocolErr("subscription identifier 0")
			}
			p.SubscriptionIDs = append(p.SubscriptionIDs, v)
		}
	case propSessionExpiry:
		p.SessionExpiry, err = d.u32Ptr()
	case propAssignedClientID:
		p.HasAssignedClientID = true
		p.AssignedClientID, err = d.str()
	case propServerKeepAlive:
		p.ServerKeepAlive, err = d.u16Ptr()
	case propAuthMethod:
		p.HasAuthMethod = true
		p.AuthMethod, err = d.str()
	case propAuthData:
		p.AuthData, err = d.bin()
	case propRequestProblemInfo:
		p.RequestProblemInfo, err = d.boolBytePtr()
	case propWillDelay:
		p.WillDelay, err = d.u32Ptr()
	case propRequestResponseInfo:
		p.RequestResponseInfo, err = d.boolBytePtr()
	case propResponseInfo:
		p.HasResponseInfo = true
		p.ResponseInfo, err = d.str()
	case propServerReference:
		p.HasServerReference = true
		p.ServerReference, err = d.str()
	case propReasonString:
		p.HasReasonString = true
		p.ReasonString, err = d.str()
	case propReceiveMaximum:
		if p.ReceiveMaximum, err = d.u16Ptr(); err == nil && *p.ReceiveMaximum == 0 {
			return protocolErr("receive maximum 0")
		}
	case propTopicAliasMaximum:
		p.TopicAliasMaximum, err = d.u16Ptr()
	case propTopicAlias:
		p.TopicAlias, err = d.u16Ptr()
	case propMaximumQoS:
		p.MaximumQoS, err = d.boolBytePtr()
	case propRetainAvailable:
		p.RetainAvailable, err = d.boolBytePtr()
	case propUserProperty:
		var k, v string
		if k, err = d.str(); err == nil {
			if v, err = d.str(); err == nil {
				p.UserProperties = append(p.UserProperties, UserProperty{Key: k, Value: v})
			}
		}
	case propMaximumPacketSize:
		if p.MaximumPacketSize, err = d.u32Ptr(); err == nil && *p.MaximumPacketSize == 0 {
			return protocolErr("maximum packet size 0")
		}
	case propWildcardSubAvailable:
		p.WildcardSubAvailable, err = d.boolBytePtr()
	case propSubIDAvailable:
		p.SubIDAvailable, err = d.boolBytePtr()
	case propSharedSubAvailable:
		p.SharedSubAvailable, err = d.boolBytePtr()
	}
	return err
}

// props appends the property length and properties in identifier order
// (user properties in their own order).
func (out *encoder) props(p *Properties) {
	var e encoder
	e.optByte(propPayloadFormat, p.PayloadFormat)
	e.optU32(propMessageExpiry, p.MessageExpiry)
	e.optStr(propContentType, p.HasContentType, p.ContentType)
	e.optStr(propResponseTopic, p.HasResponseTopic, p.ResponseTopic)
	if p.CorrelationData != nil {
		e.b = append(e.b, propCorrelationData)
		e.bin(p.CorrelationData)
	}
	for _, id := range p.SubscriptionIDs {
		e.b = append(e.b, propSubscriptionID)
		e.b = appendVarint(e.b, id)
	}
	e.optU32(propSessionExpiry, p.SessionExpiry)
	e.optStr(propAssignedClientID, p.HasAssignedClientID, p.AssignedClientID)
	e.optU16(propServerKeepAlive, p.ServerKeepAlive)
	e.optStr(propAuthMethod, p.HasAuthMethod, p.AuthMethod)
	if p.AuthData != nil {
		e.b = append(e.b, propAuthData)
		e.bin(p.AuthData)
	}
	e.optByte(propRequestProblemInfo, p.RequestProblemInfo)
	e.optU32(propWillDelay, p.WillDelay)
	e.optByte(propRequestResponseInfo, p.RequestResponseInfo)
	e.optStr(propResponseInfo, p.HasResponseInfo, p.ResponseInfo)
	e.optStr(propServerReference, p.HasServerReference, p.ServerReference)
	e.optStr(propReasonString, p.HasReasonString, p.ReasonString)
	e.optU16(propReceiveMaximum, p.ReceiveMaximum)
	e.optU16(propTopicAliasMaximum, p.TopicAliasMaximum)
	e.optU16(propTopicAlias, p.TopicAlias)
	e.optByte(propMaximumQoS, p.MaximumQoS)
	e.optByte(propRetainAvailable, p.RetainAvailable)
	for _, up := range p.UserProperties {
		e.b = append(e.b, propUserProperty)
		e.str(up.Key)
		e.str(up.Value)
	}
	e.optU32(propMaximumPacketSize, p.MaximumPacketSize)
	e.optByte(propWildcardSubAvailable, p.WildcardSubAvailable)
	e.optByte(propSubIDAvailable, p.SubIDAvailable)
	e.optByte(propSharedSubAvailable, p.SharedSubAvailable)
	out.tooLong = out.tooLong || e.tooLong
	out.b = appendVarint(out.b, len(e.b))
	out.b = append(out.b, e.b...)
}
