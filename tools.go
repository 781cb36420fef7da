//go:build tools

package sdk

// The generator is pinned in go.mod through this import. The root package is
// never imported by users, so none of the generator's dependencies reach their
// go.mod (checked by internal/consumercheck).
import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
