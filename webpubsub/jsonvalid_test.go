package webpubsub

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
		if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", in, got, want)
		}
	}
	for _, depth := range []int{maxJSONDepth, maxJSONDepth + 1} {
		in := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		if got, want := validJSON(in), json.Valid(in); got != want {
			t.Errorf("validJSON of %d nested arrays = %v, json.Valid says %v", depth, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, in := range jsonValidCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := validJSON(in), json.Valid(in); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", in, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	for _, size := range payloadSizes {
		p := jsonPayload(size.n)
		b.Run("size="+size.name+"/impl=sdk", func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if !validJSON(p) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run("size="+size.name+"/impl=encoding_json", func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if !json.Valid(p) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
