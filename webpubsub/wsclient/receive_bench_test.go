package wsclient

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"testing"
)

// blastServer is a Web PubSub endpoint reduced to a source of messages at
// memory speed: it answers the handshake, sends the connected message and
// then writes n pre-framed group messages in large writes, reading and
// discarding what the client sends. It measures the client's receive path
// alone (the emulator's own cost per message is larger than the client's).
func blastServer(tb testing.TB, n int, data string, dataType string) string {
	tb.Helper()
	var stream []byte
	for i := 1; i <= n; i++ {
		msg := `{"type":"message","from":"group","group":"g","fromUserId":"publisher","dataType":"` + dataType + `","data":` + data + `,"sequenceId":` + strconv.Itoa(i) + `}`
		stream = appendServerFrame(stream, []byte(msg))
	}
	return rawService(tb, func(conn net.Conn, br *bufio.Reader) {
		for rest := stream; len(rest) > 0; { // every connection gets the stream
			k := min(len(rest), 64<<10)
			if _, err := conn.Write(rest[:k]); err != nil {
				return
			}
			rest = rest[k:]
		}
		idle(conn, br) // sequence acks, until the client closes
	})
}

// appendServerFrame appends an unmasked, final text frame.
func appendServerFrame(b, payload []byte) []byte {
	b = append(b, 0x81)
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// BenchmarkReceive is one client receiving b.N group messages from a
// source that costs nearly nothing: the client's receive path alone (read,
// decode, queue, hand over). Compare builds with benchstat.
func BenchmarkReceive(b *testing.B) {
	text := `"` + strings.Repeat("x", 100) + `"`
	for _, tc := range []struct {
		name, dataType, data string
		callback             bool
	}{
		{"text-100B", "text", text, false},
		{"text-100B-callback", "text", text, true},
		{"json-100B", "json", `{"n":1,"s":"` + strings.Repeat("x", 88) + `"}`, false},
		{"binary-100B", "binary", `"` + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 100))) + `"`, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			u := blastServer(b, b.N, tc.data, tc.dataType)
			got := make(chan int, 1)
			opts := &Options{}
			count := 0
			if tc.callback {
				opts.OnMessage = func(m Message) {
					if count++; count == b.N {
						got <- count
					}
				}
			}
			c, err := New(u, opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			if err := c.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer c.Stop()
			if tc.callback {
				<-got
			} else {
				for i := 1; i <= b.N; i++ {
					m, err := c.Receive(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if m.SequenceID != uint64(i) {
						b.Fatalf("message %d has sequence id %d", i, m.SequenceID)
					}
				}
			}
			b.StopTimer()
		})
	}
}
