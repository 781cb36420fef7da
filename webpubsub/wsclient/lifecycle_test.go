package wsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func seqMessage(seq uint64) string {
	return fmt.Sprintf(`{"type":"message","from":"server","dataType":"text","data":"m%d","sequenceId":%d}`, seq, seq)
}

// The sequence ack schedule: an id is acknowledged once, by a timer that
// runs only while an id waits, or at once, aside from the reader, when it
// is more than 300 ahead of the last ack; Stop acknowledges only what
// changed.
func TestSequenceAckSchedule(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		first    []uint64          // sent after the connected message
		next     map[uint64]uint64 // after the ack of key, send value
		want     []uint64          // acks, in order, before Stop
		wantStop []uint64          // Stop's final ack
	}{
		// With a one-hour timer only the quick ack, and Stop, can answer.
		{name: "quick ack past the gap", interval: time.Hour, first: []uint64{1, 302}, want: []uint64{302}},
		{name: "final ack at Stop", interval: time.Hour, first: []uint64{1, 2}, wantStop: []uint64{2}},
		{name: "timer, armed again by the reader", interval: 20 * time.Millisecond, first: []uint64{1, 2, 3}, next: map[uint64]uint64{3: 4, 4: 5}, want: []uint64{3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := ackInterval
			ackInterval = tt.interval
			t.Cleanup(func() { ackInterval = old })
			acks := make(chan uint64, 100)
			u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
				write(ctx, ws, connectedJSON)
				for _, seq := range tt.first {
					write(ctx, ws, seqMessage(seq))
				}
				defer close(acks)
				readAcks(ctx, ws, acks, tt.next)
			})
			c := start(t, u, &Options{KeepAliveInterval: -1, KeepAliveTimeout: -1})
			// Every id is acknowledged at most once, in order; on a busy
			// machine the timer may also acknowledge an id before those
			// in want.
			var got []uint64
			for len(tt.want) > 0 && (len(got) == 0 || got[len(got)-1] != tt.want[len(tt.want)-1]) {
				select {
				case seq := <-acks:
					got = append(got, seq)
				case <-time.After(10 * time.Second):
					t.Fatalf("acks %v, want %v", got, tt.want)
				}
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) || !isSubsequence(tt.want, got) {
				t.Errorf("acks before Stop %v, want increasing with %v", got, tt.want)
			}
			last := tt.first[len(tt.first)-1]
			for _, n := range tt.next {
				last = max(last, n)
			}
			for d := time.Now().Add(10 * time.Second); c.maxSeq.Load() != last; time.Sleep(time.Millisecond) {
				if time.Now().After(d) {
					t.Fatalf("the client queued up to %d, want %d", c.maxSeq.Load(), last)
				}
			}
			// Nothing waits for a short timer now: it is not armed again.
			deadline := time.Now().Add(10 * time.Second)
			for tt.interval < time.Second && c.timerArmed() {
				if time.Now().After(deadline) {
					t.Fatal("the ack timer stays armed with nothing to acknowledge")
				}
				time.Sleep(time.Millisecond)
			}
			c.Stop()
			got = nil
			for seq := range acks {
				got = append(got, seq)
			}
			if diff := cmp.Diff(tt.wantStop, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("acks at Stop (-want +got):\n%s", diff)
			}
		})
	}
}

// timerArmed reports whether the current socket's ack timer is armed or
// running.
func (c *Client) timerArmed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sock != nil && c.sock.ackArmed.Load()
}

// isSubsequence reports whether sub is in list, in order.
func isSubsequence(sub, list []uint64) bool {
	for _, v := range list {
		if len(sub) > 0 && sub[0] == v {
			sub = sub[1:]
		}
	}
	return len(sub) == 0
}

// The keep-alive timer runs at the next ping or the next dead-connection
// check, whichever comes first.
func TestKeepAliveDelay(t *testing.T) {
	const s, ms = time.Second, time.Millisecond
	tests := []struct {
		name              string
		interval, timeout time.Duration
		sincePing         time.Duration
		want              time.Duration
	}{
		{"defaults: every check is a ping", DefaultKeepAliveInterval, DefaultKeepAliveTimeout, 0, 20 * s},
		{"defaults, 15 s after a ping", DefaultKeepAliveInterval, DefaultKeepAliveTimeout, 15 * s, 5 * s},
		{"checks a sixth of the timeout apart", 20 * s, 60 * s, 0, 10 * s},
		{"no pings", -1, 120 * s, 0, 20 * s},
		{"no dead-connection check", 20 * s, -1, 0, 20 * s},
		{"neither", -1, -1, 0, 0},
		{"a ping overdue", 100 * ms, -1, 300 * ms, ms},
		{"a tiny timeout", -1, ms, 0, ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New("ws://localhost/client/hubs/h", &Options{KeepAliveInterval: tt.interval, KeepAliveTimeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			if got := c.keepAliveDelay(&socket{lastPing: now.Add(-tt.sincePing)}, now); got != tt.want {
				t.Errorf("keepAliveDelay = %s, want %s", got, tt.want)
			}
		})
	}
}

// readAcks sends the sequence ids the client acknowledges on ws to acks,
// and after the ack of a key of next sends the message of its value.
func readAcks(ctx context.Context, ws *websocket.Conn, acks chan<- uint64, next map[uint64]uint64) {
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var r struct {
			Type       string `json:"type"`
			SequenceID uint64 `json:"sequenceId"`
		}
		if json.Unmarshal(b, &r) != nil || r.Type != wire.TypeSequenceAck {
			continue
		}
		acks <- r.SequenceID
		if n, ok := next[r.SequenceID]; ok {
			write(ctx, ws, seqMessage(n))
		}
	}
}

// An id the client received but did not acknowledge before a drop is
// acknowledged on the recovered socket, even when nothing new arrives.
func TestSequenceAckAfterRecovery(t *testing.T) {
	old := ackInterval
	ackInterval = 300 * time.Millisecond
	t.Cleanup(func() { ackInterval = old })
	acks := make(chan uint64, 100)
	u := fakeServiceReq(t, func(ctx context.Context, r *http.Request, ws *websocket.Conn) {
		write(ctx, ws, connectedJSON)
		if r.URL.Query().Get(wire.QueryConnectionID) == "" {
			write(ctx, ws, seqMessage(1), seqMessage(2)) // and drop at once
			return
		}
		readAcks(ctx, ws, acks, nil)
	})
	c := start(t, u, &Options{KeepAliveInterval: -1, KeepAliveTimeout: -1})
	select {
	case seq := <-acks:
		if seq != 2 {
			t.Fatalf("the recovered socket acknowledged %d, want 2", seq)
		}
	case <-time.After(10 * time.Second):
		if c.ackedSeq.Load() == 2 {
			t.Skip("the machine was so slow that the first socket acknowledged 2 before its drop")
		}
		t.Fatal("no ack on the recovered socket")
	}
}
