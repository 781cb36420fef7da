package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// jsonValidCases are inputs on both sides of every rule of the grammar.
var jsonValidCases = []string{
	``, ` `, `null`, `nul`, `nulls`, `true`, `false`, `tru`, `True`, ` true `, "\t\n\r true\n",
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.25e10`, `1.5e3.2`, `+1`, `0x10`,
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00G9"`, `"\u12"`, `"\x"`, `"a`, "\"a\tb\"", "\"\x1f\"", "\"\x7f\"",
	"\"\xff\xfe\"", `"é"`, `"\ud800"`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a" : [1, 2, {"b": null}] }`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":1,"b":2}`, `{`, `}`,
	`[]`, `[ ]`, `[1]`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[`, `]`, `[1]]`, `[1] [2]`, `{"n":12345,"p":"xxx"}`, "[1]\x00",
}

func TestValidJSON(t *testing.T) {
	for _, in := range jsonValidCases {
		if got, want := ValidJSON([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("ValidJSON(%q) = %v, json.Valid says %v", in, got, want)
		}
	}
	for _, depth := range []int{maxJSONDepth, maxJSONDepth + 1} {
		in := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		if got, want := ValidJSON(in), json.Valid(in); got != want {
			t.Errorf("ValidJSON of %d nested arrays = %v, json.Valid says %v", depth, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, in := range jsonValidCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := ValidJSON(in), json.Valid(in); got != want {
			t.Errorf("ValidJSON(%q) = %v, json.Valid says %v", in, got, want)
		}
	})
}

// FuzzJSONValueEnd: what JSONValueEnd takes from the front of any input
// is valid JSON, and a valid value alone is taken whole.
func FuzzJSONValueEnd(f *testing.F) {
	for _, in := range jsonValidCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		end, ok := JSONValueEnd(in, 0)
		if ok && (end > len(in) || !json.Valid(in[:end])) {
			t.Fatalf("JSONValueEnd(%q) took %q, which json.Valid refuses", in, in[:min(end, len(in))])
		}
		if json.Valid(in) && len(in) > 0 && skipJSONSpace(in, 0) == 0 && skipJSONSpace(in, len(in)-1) == len(in)-1 && in[len(in)-1] > ' ' {
			if end, ok := JSONValueEnd(in, 0); !ok || end != len(in) {
				t.Fatalf("JSONValueEnd(%q) = %d, %v; want %d, true", in, end, ok, len(in))
			}
		}
	})
}
