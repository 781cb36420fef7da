package webpubsub

import (
	"encoding/json"
	"testing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func BenchmarkValidJSON(b *testing.B) {
	for _, size := range payloadSizes {
		p := jsonPayload(size.n)
		b.Run("size="+size.name+"/impl=sdk", func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if !wire.ValidJSON(p) {
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
