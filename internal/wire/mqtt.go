package wire

// MQTT over WebSocket (Web PubSub "How to connect MQTT clients" and
// "Cross-protocol communication between MQTT clients and Web PubSub
// clients").
const (
	// SubprotocolMQTT is the WebSocket subprotocol MQTT clients offer, and
	// the ce-subprotocol of every MQTT client's event.
	SubprotocolMQTT = "mqtt"
	// TopicServerMessages is the topic on which MQTT clients receive REST
	// sends to all, to a user and to a connection ("REST API specification
	// for MQTT").
	TopicServerMessages = "$webpubsub/server/messages"
	// ContentTypeProtobuf is the MQTT 5.0 content type of protobuf data.
	ContentTypeProtobuf = "application/x-protobuf"
)

// MQTTContentType is the MQTT 5.0 content type of a Web PubSub data type
// (json, text, binary, protobuf), per the cross-protocol conversion table.
func MQTTContentType(dataType string) string {
	switch dataType {
	case DataTypeJSON:
		return ContentTypeJSON
	case DataTypeText:
		return ContentTypeText
	case DataTypeProtobuf:
		return ContentTypeProtobuf
	}
	return ContentTypeBinary
}

// MQTTDataType is the Web PubSub data type of an MQTT message: from the
// 5.0 content type; binary when it is absent (and always for 3.1.1) or
// names another media type.
func MQTTDataType(contentType string, has bool) string {
	if !has {
		return DataTypeBinary
	}
	switch contentType {
	case ContentTypeJSON:
		return DataTypeJSON
	case ContentTypeText:
		return DataTypeText
	case ContentTypeProtobuf:
		return DataTypeProtobuf
	}
	return DataTypeBinary
}
