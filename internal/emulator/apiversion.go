package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// apiVersions are the api-versions the emulator answers, oldest first: the
// stable versions of the data-plane REST API. The service answers any other
// value with 400 UnsupportedApiVersion, and so does the emulator.
var apiVersions = wire.APIVersions()

// opMinAPIVersion is the first api-version of each operation that is not in
// every version (rest-api.md, "API versions"). The service answers an older
// version of these routes with 400 UnsupportedApiVersion, as for an unknown
// version (for example RemoveConnectionFromAllGroups with 2021-10-01).
var opMinAPIVersion = map[string]string{
	"RemoveConnectionFromAllGroups": wire.APIVersion20221101,
	"AddConnectionsToGroups":        wire.APIVersion20240101,
	"RemoveConnectionsFromGroups":   wire.APIVersion20240101,
	"ListConnectionsInGroup":        wire.APIVersion20241201,
}

// errUnsupportedAPIVersion is the service's error code for an api-version
// that the matched route does not support.
const errUnsupportedAPIVersion = "UnsupportedApiVersion"

// checkAPIVersion returns the message of a 400 UnsupportedApiVersion when
// the request's api-version is present but not one the operation supports,
// and "" otherwise. A missing api-version is left to the router, which
// reports the required parameter, and so are differing repeated values; a
// value repeated unchanged (a pager appending it to a nextLink) counts once.
func checkAPIVersion(r *http.Request, op string) string {
	v, ok := queryAPIVersion(r.URL.RawQuery)
	if !ok {
		return ""
	}
	supported := slices.Contains(apiVersions, v)
	if supported && v >= opMinAPIVersion[op] { // dates compare as strings; "" when every version has op
		return ""
	}
	uri := r.URL.Path // the path only: queries may carry user data
	if !supported {
		return fmt.Sprintf("The HTTP resource that matches the request URI '%s' does not support the API version '%s': use one of %s", uri, v, strings.Join(apiVersions, ", "))
	}
	return fmt.Sprintf("The HTTP resource that matches the request URI '%s' does not support the API version '%s': %s needs api-version %s or later", uri, v, op, opMinAPIVersion[op])
}

// queryAPIVersion returns the api-version of a raw query without parsing
// the whole query (this runs on every REST call): ok is false when it is
// absent, cannot be unescaped, or has differing values.
func queryAPIVersion(raw string) (v string, ok bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, val, _ := strings.Cut(kv, "=")
		if k != wire.QueryAPIVersion {
			continue
		}
		if strings.ContainsAny(val, "%+") {
			var err error
			if val, err = url.QueryUnescape(val); err != nil {
				return "", false
			}
		}
		if ok && val != v {
			return "", false
		}
		v, ok = val, true
	}
	return v, ok
}
