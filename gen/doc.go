// Package gen is generated from api/webpubsub.yaml by oapi-codegen: the REST
// models, the HTTP client and the strict server interface. Do not edit it;
// change the document and run `make generate`.
//
// It is an implementation detail of github.com/webpubsub-go/sdk/webpubsub and
// of the emulator, outside the module's compatibility promise.
package gen
