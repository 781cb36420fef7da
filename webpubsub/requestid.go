package webpubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// clientRequestIDKey is the context key of WithClientRequestID.
type clientRequestIDKey struct{}

// maxClientRequestID bounds a caller's request id, as the service does.
const maxClientRequestID = 256

// WithClientRequestID returns a context that makes every operation called
// with it send id as its x-ms-client-request-id header, instead of a fresh
// random UUID per operation. Every try of an operation sends the same id;
// it is logged, put on the operation's tracing span and in its errors
// (ResponseError.RequestID). This is the counterpart of azcore's
// policy.WithHTTPHeader for this header; like it, the value applies to
// every call made with the context. id must be 1 to 256 printable ASCII
// characters; otherwise the operation fails with ErrInvalidArgument.
func WithClientRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, clientRequestIDKey{}, id)
}

// requestIDFor returns the caller's id from ctx, or a new random UUID.
func requestIDFor(ctx context.Context) (string, error) {
	if id, ok := ctx.Value(clientRequestIDKey{}).(string); ok {
		if id == "" || len(id) > maxClientRequestID {
			return "", invalidArg("WithClientRequestID: the id must be 1 to %d characters", maxClientRequestID)
		}
		for i := 0; i < len(id); i++ {
			if id[i] < 0x20 || id[i] > 0x7e {
				return "", invalidArg("WithClientRequestID: the id must be printable ASCII (byte %d is not)", i+1)
			}
		}
		return id, nil
	}
	return newUUID(), nil
}

// newUUID returns a random (version 4) UUID in its text form.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
