package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// difference is one way the two documents disagree.
type difference struct {
	// Where is the operation ("POST /api/hubs/{hub}/:send"), the schema
	// ("schema GroupMember") or "document".
	Where string
	// What is the property that differs, e.g. "query parameter excluded: maximum".
	What string
	// Official and Ours are the two values; "" means absent or unset.
	Official, Ours string
}

// String prints a difference on one line.
func (d difference) String() string {
	return fmt.Sprintf("%s: %s: official %s, ours %s", d.Where, d.What, show(d.Official), show(d.Ours))
}

// show prints a value, making absence visible.
func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", v)
}

// comparison is the full result of comparing two documents.
type comparison struct {
	// Matched counts the operations present in both documents; OfficialOps and
	// OurOps count each side.
	Matched, OfficialOps, OurOps int
	Differences                  []difference
}

// compare lists every difference between the official document and ours, in
// a stable order: document, operations by path and method, then schemas.
func compare(official, ours *document) comparison {
	c := comparison{OfficialOps: len(official.Operations), OurOps: len(ours.Operations)}
	add := func(where, what, o, u string) {
		if o != u {
			c.Differences = append(c.Differences, difference{Where: where, What: what, Official: o, Ours: u})
		}
	}
	add("document", "api version (info.version)", official.Version, ours.Version)

	for _, key := range unionKeys(official.Operations, ours.Operations) {
		o, u := official.Operations[key], ours.Operations[key]
		switch {
		case u == nil:
			add(key, "operation", "operationId "+o.ID, "")
			continue
		case o == nil:
			add(key, "operation", "", "operationId "+u.ID)
			continue
		}
		c.Matched++
		compareOperation(key, o, u, add)
	}

	for _, name := range unionKeys(official.Schemas, ours.Schemas) {
		where := "schema " + name
		o, u := official.Schemas[name], ours.Schemas[name]
		switch {
		case u == nil:
			add(where, "schema", "defined", "")
			continue
		case o == nil:
			add(where, "schema", "", "defined")
			continue
		}
		add(where, "type", o.Type, u.Type)
		add(where, "required properties", o.Required, u.Required)
		add(where, "additionalProperties", o.AdditionalProperties, u.AdditionalProperties)
		add(where, "enum", o.Enum, u.Enum)
		for _, prop := range unionKeys(o.Properties, u.Properties) {
			add(where, "property "+prop, o.Properties[prop], u.Properties[prop])
		}
	}
	return c
}

// compareOperation adds the differences of one matched operation.
func compareOperation(where string, o, u *operation, add func(where, what, official, ours string)) {
	for _, key := range unionKeys(o.Params, u.Params) {
		op, up := o.Params[key], u.Params[key]
		in, name, _ := strings.Cut(key, " ")
		label := paramLabel(in, name)
		switch {
		case up == nil:
			add(where, label, paramShape(op), "")
			continue
		case op == nil:
			add(where, label, "", paramShape(up))
			continue
		}
		for _, f := range paramFields {
			add(where, label+": "+f.name, f.get(op), f.get(up))
		}
	}

	add(where, "success statuses", sortedKeys(o.Success), sortedKeys(u.Success))
	for _, status := range sharedKeys(o.Success, u.Success) {
		compareMedia(where, "success "+status, o.Success[status].Media, u.Success[status].Media, add)
	}

	switch {
	case o.Body == nil && u.Body == nil:
	case u.Body == nil:
		add(where, "request body", bodyShape(o.Body), "")
	case o.Body == nil:
		add(where, "request body", "", bodyShape(u.Body))
	default:
		add(where, "request body: required", fmt.Sprint(o.Body.Required), fmt.Sprint(u.Body.Required))
		compareMedia(where, "request body", o.Body.Media, u.Body.Media, add)
	}
}

// compareMedia compares the content types of a body and, for the content
// types both sides declare, their schemas.
func compareMedia(where, label string, o, u map[string]string, add func(where, what, official, ours string)) {
	add(where, label+": content types", sortedKeys(o), sortedKeys(u))
	for _, ct := range sharedKeys(o, u) {
		add(where, label+" "+ct+": schema", o[ct], u[ct])
	}
}

// unionKeys returns the keys of both maps, sorted; operation keys sort by
// path first so a report reads like the document.
func unionKeys[V any](a, b map[string]V) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return slices.SortedFunc(maps.Keys(set), byPathThenMethod)
}

// sharedKeys returns the keys present in both maps, sorted.
func sharedKeys[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		if _, ok := b[k]; ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// byPathThenMethod orders "METHOD /path" keys by path, then method; other
// keys have no space-separated path and sort as plain strings.
func byPathThenMethod(a, b string) int {
	am, ap, _ := strings.Cut(a, " ")
	bm, bp, _ := strings.Cut(b, " ")
	return cmp.Or(strings.Compare(ap, bp), strings.Compare(am, bm))
}

// paramShape describes a parameter present on one side only, in full:
// "optional, type integer, format int32, minimum 0, maximum 9".
func paramShape(p *param) string {
	parts := []string{"optional"}
	if p.Required {
		parts[0] = "required"
	}
	for _, f := range paramFields[1:] { // required is said above
		if v := f.get(p); v != "" {
			parts = append(parts, f.name+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

// bodyShape describes a request body present on one side only.
func bodyShape(b *requestBody) string {
	parts := []string{"optional"}
	if b.Required {
		parts[0] = "required"
	}
	for _, ct := range slices.Sorted(maps.Keys(b.Media)) {
		parts = append(parts, ct+" "+b.Media[ct])
	}
	return strings.Join(parts, ", ")
}
