package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
)

// The Swagger 2.0 structures below hold only what specdiff compares; every
// other field of the official document is ignored.

type swaggerDoc struct {
	Swagger     string                                `json:"swagger"`
	Info        struct{ Version string }              `json:"info"`
	Consumes    []string                              `json:"consumes"`
	Produces    []string                              `json:"produces"`
	Paths       map[string]map[string]json.RawMessage `json:"paths"`
	Parameters  map[string]*swaggerParam              `json:"parameters"`
	Definitions map[string]*swaggerSchema             `json:"definitions"`
}

type swaggerOperation struct {
	OperationID string                      `json:"operationId"`
	Consumes    []string                    `json:"consumes"`
	Produces    []string                    `json:"produces"`
	Parameters  []*swaggerParam             `json:"parameters"`
	Responses   map[string]*swaggerResponse `json:"responses"`
}

type swaggerParam struct {
	Ref              string         `json:"$ref"`
	Name             string         `json:"name"`
	In               string         `json:"in"`
	Required         bool           `json:"required"`
	Type             string         `json:"type"`
	Format           string         `json:"format"`
	Items            *swaggerSchema `json:"items"`
	CollectionFormat string         `json:"collectionFormat"`
	Minimum          *float64       `json:"minimum"`
	Maximum          *float64       `json:"maximum"`
	MinLength        uint64         `json:"minLength"`
	MaxLength        uint64         `json:"maxLength"`
	Pattern          string         `json:"pattern"`
	Enum             []any          `json:"enum"`
	Default          any            `json:"default"`
	Schema           *swaggerSchema `json:"schema"`
}

type swaggerSchema struct {
	Ref                  string                    `json:"$ref"`
	Type                 string                    `json:"type"`
	Format               string                    `json:"format"`
	Items                *swaggerSchema            `json:"items"`
	Properties           map[string]*swaggerSchema `json:"properties"`
	Required             []string                  `json:"required"`
	AdditionalProperties json.RawMessage           `json:"additionalProperties"`
	Enum                 []any                     `json:"enum"`
}

type swaggerResponse struct {
	Schema *swaggerSchema `json:"schema"`
}

// swaggerMethods are the operation keys of a Swagger 2.0 path item.
var swaggerMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true,
}

// parseSwagger2 turns Swagger 2.0 JSON into a document.
func parseSwagger2(data []byte) (*document, error) {
	var sw swaggerDoc
	if err := json.Unmarshal(data, &sw); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if sw.Swagger != "2.0" {
		return nil, fmt.Errorf(`want a Swagger 2.0 document ("swagger": "2.0"), got swagger=%q`, sw.Swagger)
	}
	doc := &document{
		Format:     "swagger 2.0",
		Version:    sw.Info.Version,
		Operations: map[string]*operation{},
		Schemas:    map[string]*schema{},
	}
	for path, item := range sw.Paths {
		var shared []*swaggerParam
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("path %s: parameters: %w", path, err)
			}
		}
		for method, raw := range item {
			if !swaggerMethods[method] {
				continue
			}
			var so swaggerOperation
			if err := json.Unmarshal(raw, &so); err != nil {
				return nil, fmt.Errorf("%s: %w", opKey(method, path), err)
			}
			op, err := sw.operation(method, path, shared, &so)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", opKey(method, path), err)
			}
			doc.Operations[opKey(method, path)] = op
		}
	}
	for name, def := range sw.Definitions {
		doc.Schemas[name] = swaggerNamedSchema(def)
	}
	return doc, nil
}

// operation converts one Swagger operation; shared are the path-level parameters.
func (sw *swaggerDoc) operation(method, path string, shared []*swaggerParam, so *swaggerOperation) (*operation, error) {
	op := &operation{
		Method:  strings.ToUpper(method),
		Path:    path,
		ID:      so.OperationID,
		Params:  map[string]*param{},
		Success: map[string]*response{},
	}
	consumes := orSlice(so.Consumes, sw.Consumes)
	produces := orSlice(so.Produces, sw.Produces)
	// Operation parameters override path-level ones with the same name and location.
	for _, list := range [][]*swaggerParam{shared, so.Parameters} {
		for _, sp := range list {
			sp, err := sw.resolveParam(sp)
			if err != nil {
				return nil, err
			}
			if sp.In == "body" {
				op.Body = &requestBody{Required: sp.Required, Media: map[string]string{}}
				for _, ct := range consumes {
					op.Body.Media[ct] = swaggerSummary(sp.Schema)
				}
				continue
			}
			op.Params[paramKey(sp.In, sp.Name)] = swaggerParamModel(sp)
		}
	}
	for status, sr := range so.Responses {
		if status == "default" {
			continue
		}
		r := &response{Media: map[string]string{}}
		if sr != nil && sr.Schema != nil {
			for _, ct := range produces {
				r.Media[ct] = swaggerSummary(sr.Schema)
			}
		}
		op.Success[status] = r
	}
	return op, nil
}

// resolveParam follows a "#/parameters/Name" reference.
func (sw *swaggerDoc) resolveParam(sp *swaggerParam) (*swaggerParam, error) {
	if sp == nil {
		return nil, fmt.Errorf("a parameter is null")
	}
	if sp.Ref == "" {
		return sp, nil
	}
	name, ok := strings.CutPrefix(sp.Ref, "#/parameters/")
	if !ok || sw.Parameters[name] == nil {
		return nil, fmt.Errorf("parameter reference %q does not point into #/parameters of this document", sp.Ref)
	}
	return sw.Parameters[name], nil
}

// swaggerParamModel flattens a non-body Swagger parameter.
func swaggerParamModel(sp *swaggerParam) *param {
	p := &param{
		In:        sp.In,
		Name:      sp.Name,
		Required:  sp.Required,
		Type:      sp.Type,
		Format:    sp.Format,
		Minimum:   formatNumber(sp.Minimum),
		Maximum:   formatNumber(sp.Maximum),
		MinLength: formatLength(sp.MinLength),
		MaxLength: formatLength(sp.MaxLength),
		Pattern:   sp.Pattern,
		Enum:      formatList(sp.Enum),
		Default:   formatValue(sp.Default),
	}
	if sp.Type == "array" {
		p.Items = swaggerSummary(sp.Items)
		p.Serialization = cmp.Or(sp.CollectionFormat, "csv") // the Swagger 2.0 default
	}
	return p
}

// swaggerNamedSchema flattens a definition.
func swaggerNamedSchema(s *swaggerSchema) *schema {
	out := &schema{
		Type:       s.Type,
		Required:   sortedJoin(s.Required),
		Enum:       formatList(s.Enum),
		Properties: map[string]string{},
	}
	switch strings.TrimSpace(string(s.AdditionalProperties)) {
	case "":
	case "false":
		out.AdditionalProperties = "false"
	default: // true or a schema: extra properties are allowed
		out.AdditionalProperties = "true"
	}
	for name, prop := range s.Properties {
		out.Properties[name] = swaggerSummary(prop)
	}
	return out
}

// swaggerSummary describes a schema in one line: "ref Name", "string/uri",
// "array of string", or "any" for an empty schema.
func swaggerSummary(s *swaggerSchema) string {
	switch {
	case s == nil:
		return "any"
	case s.Ref != "":
		return "ref " + refName(s.Ref)
	case s.Type == "array":
		return "array of " + swaggerSummary(s.Items)
	}
	return typeSummary(s.Type, s.Format)
}

// typeSummary joins a type and its format; no type at all is "any".
func typeSummary(typ, format string) string {
	switch {
	case typ == "" && format == "":
		return "any"
	case format == "":
		return typ
	}
	return typ + "/" + format
}

// refName is the last segment of a JSON reference.
func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// orSlice returns a unless it is empty, else b.
func orSlice[E any](a, b []E) []E {
	if len(a) > 0 {
		return a
	}
	return b
}
