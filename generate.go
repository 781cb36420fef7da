// Package sdk is the root of the Web PubSub Go toolkit. It holds no code that
// users import: only the go:generate lines that turn api/webpubsub.yaml into
// the gen package, and (in tools.go) the pinned generator.
//
// Users import github.com/webpubsub-go/sdk/webpubsub.
package sdk

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/client.cfg.yaml api/webpubsub.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/server.cfg.yaml api/webpubsub.yaml
