package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI3 reads and validates an OpenAPI 3 document (YAML or JSON).
func loadOpenAPI3(ctx context.Context, path string) (*document, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	t, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	doc, err := fromOpenAPI3(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	doc.Source = path
	return doc, nil
}

// parseOpenAPI3 reads an OpenAPI 3 document from memory.
func parseOpenAPI3(ctx context.Context, data []byte) (*document, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	t, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI 3 document: %w", err)
	}
	return fromOpenAPI3(ctx, t)
}

// fromOpenAPI3 validates t and flattens it into a document.
func fromOpenAPI3(ctx context.Context, t *openapi3.T) (*document, error) {
	if err := t.Validate(ctx); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	doc := &document{
		Format:     "openapi " + t.OpenAPI,
		Operations: map[string]*operation{},
		Schemas:    map[string]*schema{},
	}
	if t.Info != nil {
		doc.Version = t.Info.Version
	}
	for path, item := range t.Paths.Map() {
		for method, o := range item.Operations() {
			op, err := openapi3Operation(method, path, item.Parameters, o)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", opKey(method, path), err)
			}
			doc.Operations[op.key()] = op
		}
	}
	for name, ref := range t.Components.Schemas {
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("components.schemas.%s is empty", name)
		}
		doc.Schemas[name] = openapi3NamedSchema(ref.Value)
	}
	return doc, nil
}

func (op *operation) key() string { return opKey(op.Method, op.Path) }

// openapi3Operation flattens one operation; shared are the path-level parameters.
func openapi3Operation(method, path string, shared openapi3.Parameters, o *openapi3.Operation) (*operation, error) {
	op := &operation{
		Method:  strings.ToUpper(method),
		Path:    path,
		ID:      o.OperationID,
		Params:  map[string]*param{},
		Success: map[string]*response{},
	}
	for _, list := range []openapi3.Parameters{shared, o.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				return nil, fmt.Errorf("a parameter is empty")
			}
			p, err := openapi3Param(ref.Value)
			if err != nil {
				return nil, err
			}
			op.Params[paramKey(p.In, p.Name)] = p
		}
	}
	if rb := o.RequestBody; rb != nil && rb.Value != nil {
		op.Body = &requestBody{Required: rb.Value.Required, Media: mediaSummaries(rb.Value.Content)}
	}
	if o.Responses != nil {
		for status, ref := range o.Responses.Map() {
			if status == "default" || ref == nil || ref.Value == nil {
				continue
			}
			op.Success[status] = &response{Media: mediaSummaries(ref.Value.Content)}
		}
	}
	return op, nil
}

// openapi3Param flattens a parameter that carries a schema.
func openapi3Param(p *openapi3.Parameter) (*param, error) {
	if p.Schema == nil || p.Schema.Value == nil {
		return nil, fmt.Errorf("%s has no schema; specdiff compares schema parameters only", paramLabel(p.In, p.Name))
	}
	s := p.Schema.Value
	out := &param{
		In:        p.In,
		Name:      p.Name,
		Required:  p.Required,
		Type:      typeName(s),
		Format:    s.Format,
		Minimum:   formatNumber(s.Min),
		Maximum:   formatNumber(s.Max),
		MinLength: formatLength(s.MinLength),
		Pattern:   s.Pattern,
		Enum:      formatList(s.Enum),
		Default:   formatValue(s.Default),
	}
	if s.MaxLength != nil {
		out.MaxLength = formatLength(*s.MaxLength)
	}
	if out.Type == "array" {
		out.Items = openapi3Summary(s.Items)
		// OpenAPI 3 defaults: query and cookie use form, and form explodes.
		style := p.Style
		if style == "" && (p.In == openapi3.ParameterInQuery || p.In == openapi3.ParameterInCookie) {
			style = openapi3.SerializationForm
		}
		explode := style == openapi3.SerializationForm
		if p.Explode != nil {
			explode = *p.Explode
		}
		out.Serialization = collectionFormat(style, explode)
	}
	return out, nil
}

// openapi3NamedSchema flattens a component schema.
func openapi3NamedSchema(s *openapi3.Schema) *schema {
	out := &schema{
		Type:       typeName(s),
		Required:   sortedJoin(s.Required),
		Enum:       formatList(s.Enum),
		Properties: map[string]string{},
	}
	switch {
	case s.AdditionalProperties.Has != nil:
		out.AdditionalProperties = fmt.Sprint(*s.AdditionalProperties.Has)
	case s.AdditionalProperties.Schema != nil:
		out.AdditionalProperties = "true"
	}
	for name, prop := range s.Properties {
		out.Properties[name] = openapi3Summary(prop)
	}
	return out
}

// mediaSummaries maps each media type to a summary of its schema.
func mediaSummaries(content openapi3.Content) map[string]string {
	out := map[string]string{}
	for ct, mt := range content {
		if mt == nil {
			continue
		}
		out[ct] = openapi3Summary(mt.Schema)
	}
	return out
}

// openapi3Summary describes a schema in one line, as swaggerSummary does.
func openapi3Summary(ref *openapi3.SchemaRef) string {
	switch {
	case ref == nil:
		return "any"
	case ref.Ref != "":
		return "ref " + refName(ref.Ref)
	case ref.Value == nil:
		return "any"
	}
	s := ref.Value
	if typeName(s) == "array" {
		if s.Items == nil {
			return "array of any"
		}
		return "array of " + openapi3Summary(s.Items)
	}
	return typeSummary(typeName(s), s.Format)
}

// typeName is the schema's type; OpenAPI 3.0 allows exactly one.
func typeName(s *openapi3.Schema) string {
	if s.Type == nil {
		return ""
	}
	return strings.Join(s.Type.Slice(), "|")
}
