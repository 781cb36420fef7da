// Package mqtt is a packet codec for MQTT 3.1.1 (protocol level 4) and
// MQTT 5.0 (protocol level 5): the control packets a broker serving MQTT
// over WebSocket reads and writes (CONNECT/CONNACK, PUBLISH and its acks,
// SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK, PINGREQ/PINGRESP, DISCONNECT)
// and the 5.0 properties.
//
// Decoding is bounded: ReadPacket refuses a packet whose remaining length
// claims more than the configured maximum before it allocates anything, a
// property or string can never claim more bytes than its packet holds, and
// every structural rule of the two specifications that a decoder can check
// (reserved flags, QoS 3, zero packet identifiers, UTF-8 strings without
// U+0000, properties allowed in the packet, repeated properties) fails with
// an *Error carrying the MQTT 5.0 reason code to answer it with.
package mqtt
