// Package contract holds the contract test of the generated code: every
// operation of the generated client (gen.ClientWithResponses) is sent to the
// generated strict server (gen.NewStrictHandler) through kin-openapi request
// and response validation against api/webpubsub.yaml, so the client, the
// server and the document must agree on every method, path, query, body and
// status. The package has no code besides its tests.
package contract
