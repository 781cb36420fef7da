package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// document is the part of an API description that specdiff compares, in a
// form that is the same whether it came from Swagger 2.0 or OpenAPI 3.
type document struct {
	// Source names the file the document was read from.
	Source string `json:"-"`
	// Format is "swagger 2.0" or "openapi 3.0.3" and the like.
	Format string `json:"format"`
	// Version is info.version, the REST api-version the document describes.
	Version string `json:"version"`
	// Operations are keyed by opKey (method and path), never by operationId.
	Operations map[string]*operation `json:"operations"`
	// Schemas are the named models (Swagger definitions, OpenAPI components.schemas).
	Schemas map[string]*schema `json:"schemas"`
}

// operation is one method on one path.
type operation struct {
	Method string `json:"method"`      // upper case, e.g. HEAD
	Path   string `json:"path"`        // e.g. /api/hubs/{hub}/:send
	ID     string `json:"operationId"` // reported, never compared
	// Params are keyed by paramKey (location and name).
	Params map[string]*param `json:"parameters"`
	// Success holds every non-default response, keyed by status code; on the
	// HEAD existence checks that includes 404.
	Success map[string]*response `json:"responses"`
	// Body is nil when the operation takes no request body.
	Body *requestBody `json:"body,omitempty"`
}

// param is one parameter, flattened to the fields both formats share. Unset
// constraints are empty strings, so two documents compare field by field.
type param struct {
	In       string `json:"in"`
	Name     string `json:"name"`
	Required bool   `json:"required,omitempty"`
	Type     string `json:"type,omitempty"` // string, integer, array, ...
	Format   string `json:"format,omitempty"`
	Items    string `json:"items,omitempty"` // the item schema of an array, e.g. "string"
	// Serialization is how an array travels in a query: multi (repeated keys),
	// csv, ssv, pipes. Empty for non-arrays.
	Serialization string `json:"serialization,omitempty"`
	Minimum       string `json:"minimum,omitempty"`
	Maximum       string `json:"maximum,omitempty"`
	MinLength     string `json:"minLength,omitempty"`
	MaxLength     string `json:"maxLength,omitempty"`
	Pattern       string `json:"pattern,omitempty"`
	Enum          string `json:"enum,omitempty"` // values in declared order, joined by ", "
	Default       string `json:"default,omitempty"`
}

// response is one non-default response.
type response struct {
	// Media maps each response content type to a summary of its schema.
	// Empty when the response has no body.
	Media map[string]string `json:"media,omitempty"`
}

// requestBody is the request body of an operation.
type requestBody struct {
	Required bool `json:"required,omitempty"`
	// Media maps each accepted content type to a summary of its schema.
	Media map[string]string `json:"media"`
}

// schema is one named model.
type schema struct {
	Type                 string `json:"type,omitempty"`
	Required             string `json:"required,omitempty"`             // sorted, joined by ", "
	AdditionalProperties string `json:"additionalProperties,omitempty"` // "true", "false", or "" when unspecified
	Enum                 string `json:"enum,omitempty"`
	// Properties map each property name to a summary of its schema.
	Properties map[string]string `json:"properties,omitempty"`
}

// opKey is how operations are matched between the two documents.
func opKey(method, path string) string { return strings.ToUpper(method) + " " + path }

// paramKey identifies a parameter within an operation.
func paramKey(in, name string) string { return in + " " + name }

// paramFields are the parameter properties that are compared, in report order.
var paramFields = []struct {
	name string
	get  func(*param) string
}{
	{"required", func(p *param) string { return strconv.FormatBool(p.Required) }},
	{"type", func(p *param) string { return p.Type }},
	{"format", func(p *param) string { return p.Format }},
	{"items", func(p *param) string { return p.Items }},
	{"array serialization", func(p *param) string { return p.Serialization }},
	{"minimum", func(p *param) string { return p.Minimum }},
	{"maximum", func(p *param) string { return p.Maximum }},
	{"minLength", func(p *param) string { return p.MinLength }},
	{"maxLength", func(p *param) string { return p.MaxLength }},
	{"pattern", func(p *param) string { return p.Pattern }},
	{"enum", func(p *param) string { return p.Enum }},
	{"default", func(p *param) string { return p.Default }},
}

// paramLabel names a parameter in a report, e.g. "query parameter excluded".
func paramLabel(in, name string) string { return in + " parameter " + name }

// formatNumber prints a bound without a trailing ".0" or exponent.
func formatNumber(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// formatLength prints a length bound; 0 and unset both mean "no bound".
func formatLength(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}

// formatList joins enum values in their declared order.
func formatList(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

// formatValue prints a default value; nil is unset.
func formatValue(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// sortedKeys returns a map's keys joined by ", " in sorted order.
func sortedKeys[V any](m map[string]V) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

// sortedJoin returns the values sorted and joined by ", ".
func sortedJoin(values []string) string {
	return strings.Join(slices.Sorted(slices.Values(values)), ", ")
}

// collectionFormat maps an OpenAPI 3 query style and explode flag to the
// Swagger 2.0 collectionFormat with the same wire form.
func collectionFormat(style string, explode bool) string {
	switch style {
	case "", "form":
		if explode {
			return "multi"
		}
		return "csv"
	case "spaceDelimited":
		return "ssv"
	case "pipeDelimited":
		return "pipes"
	default:
		return style
	}
}
