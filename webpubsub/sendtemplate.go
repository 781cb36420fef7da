package webpubsub

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"sync/atomic"

	"github.com/webpubsub-go/sdk/gen"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// templateContentTypes are the content types of value messages, whose
// SendToAll request templates a client caches.
var templateContentTypes = [...]string{wire.ContentTypeJSON, wire.ContentTypeText, wire.ContentTypeBinary}

// requestTemplates holds, per content type, the request the generated
// builder makes for a SendToAll without options. The URL of that request
// never changes for a client, and building it (three URL parses, a
// Sprintf and the query encoding in the generated code) was a third of
// the client's own CPU per send.
type requestTemplates [len(templateContentTypes)]atomic.Pointer[http.Request]

// newSendToAllRequest returns the request of a SendToAll without options:
// a copy of the template the generated builder made for msg's content
// type, with msg's bytes as the body, set as http.NewRequest sets a
// *bytes.Reader. ok is false when params hold anything but the client's
// api-version, for a Stream message or another content type; the caller
// then builds the request with the generated builder itself.
func (c *Client) newSendToAllRequest(ctx context.Context, params *gen.SendToAllParams, msg *Message) (req *http.Request, ok bool, err error) {
	if msg.reader != nil || msg.err != nil || !c.templateParams(params) {
		return nil, false, nil
	}
	i := 0
	for i < len(templateContentTypes) && templateContentTypes[i] != msg.contentType {
		i++
	}
	if i == len(templateContentTypes) {
		return nil, false, nil
	}
	tmpl := c.sendAllTemplates[i].Load()
	if tmpl == nil {
		tmpl, err = gen.NewSendToAllRequestWithBody(c.server, c.hub, params, msg.contentType, http.NoBody)
		if err != nil {
			return nil, true, err
		}
		c.sendAllTemplates[i].Store(tmpl)
	}
	req = tmpl.Clone(ctx)
	body := msg.body
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req, true, nil
}

// templateParams reports whether params are those the templates are built
// from: the client's api-version and nothing else. It looks at the whole
// value, not at a list of fields, so a parameter added to the document
// later (a new field of gen.SendToAllParams) makes a send take the
// generated builder, which writes it, instead of being dropped.
func (c *Client) templateParams(params *gen.SendToAllParams) bool {
	if params.APIVersion != c.apiVersion {
		return false
	}
	rest := *params
	rest.APIVersion = ""
	return reflect.ValueOf(&rest).Elem().IsZero()
}
