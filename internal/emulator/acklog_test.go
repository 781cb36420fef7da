package emulator

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestAckLogWindow(t *testing.T) {
	var l ackLog
	for id := uint64(1); id <= maxAckIDs+10; id++ {
		if l.seen(id) {
			t.Fatalf("id %d seen before it was recorded", id)
		}
		l.record(id)
	}
	for _, tc := range []struct {
		id   uint64
		want bool
	}{{1, false}, {10, false}, {11, true}, {maxAckIDs + 10, true}, {maxAckIDs + 11, false}, {0, false}} {
		if got := l.seen(tc.id); got != tc.want {
			t.Errorf("seen(%d) = %v, want %v", tc.id, got, tc.want)
		}
	}
	// Ids in any order: the last maxAckIDs recorded are remembered.
	var r ackLog
	ids := make([]uint64, 3*maxAckIDs)
	for i := range ids {
		ids[i] = uint64(i) * 0x9E3779B97F4A7C15 // spread over the whole range
		r.record(ids[i])
	}
	for i := 0; i < len(ids); i += 97 { // a sample: each look-up scans the log
		id := ids[i]
		if want := i >= len(ids)-maxAckIDs; r.seen(id) != want {
			t.Fatalf("id #%d: seen %v, want %v", i, !want, want)
		}
	}
	if cap(r.ids) != maxAckIDs {
		t.Errorf("ring capacity %d, want %d", cap(r.ids), maxAckIDs)
	}
}

// heapInUse is the live heap after two collections.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMillionAckIDs: one connection sends 1,000,000 acked events; the
// emulator's heap grows by less than 10 MiB and the newest ids are still
// deduplicated (issue 12 defect 4: 152 MiB, kept forever). The messages go
// through the connection's message handler directly: through a socket the
// test would take minutes under -race (TestAckedFlood sends 20,000).
func TestMillionAckIDs(t *testing.T) {
	s := newTestServer(t)
	c := &conn{e: s.e, hub: "hub", id: "flood", kind: protocolJSON, groups: map[string]struct{}{}}
	if !s.e.register(c, nil) {
		t.Fatal("register failed")
	}
	ctx := context.Background()
	event := "e"
	before := heapInUse()
	const n = 1_000_000
	for i := uint64(1); i <= n; i++ {
		id := i
		c.handleMessage(ctx, &clientMessage{Type: wire.TypeEvent, Event: &event, Data: []byte("1"), AckID: &id})
	}
	after := heapInUse()
	growth := int64(after) - int64(before)
	t.Logf("heap %.1f MiB before, %.1f MiB after %d acked events: growth %.2f MiB", mib(before), mib(after), n, float64(growth)/(1<<20))
	if growth > 10<<20 {
		t.Errorf("heap grew by %.1f MiB, want < 10 MiB", float64(growth)/(1<<20))
	}
	for _, tc := range []struct {
		id  uint64
		dup bool
	}{{n, true}, {n - maxAckIDs + 1, true}, {n - maxAckIDs, false}, {n + 1, false}} {
		if got := !c.ackUnused(tc.id); got != tc.dup {
			t.Errorf("ackId %d: duplicate %v, want %v", tc.id, got, tc.dup)
		}
	}
	runtime.KeepAlive(c)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestClientGroupLimit: a client's own joins stop at maxClientGroups with a
// clear refusal; joining a group it is in, and joining after leaving one,
// still work.
func TestClientGroupLimit(t *testing.T) {
	s := newTestServer(t)
	g, err := newGrants([]string{wire.RoleJoinLeaveGroup})
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{e: s.e, hub: "hub", id: "joiner", kind: protocolJSON, groups: map[string]struct{}{}, grants: g}
	if !s.e.register(c, nil) {
		t.Fatal("register failed")
	}
	for i := range maxClientGroups {
		if errName, msg := s.e.clientJoinLeave(c, fmt.Sprint("g", i), true); errName != "" {
			t.Fatalf("join %d: %s %s", i, errName, msg)
		}
	}
	errName, msg := s.e.clientJoinLeave(c, "one-more", true)
	if errName != wire.AckErrorBadRequest || !contains(msg, "leave one first") {
		t.Errorf("join past the limit: %q %q, want BadRequest saying to leave one", errName, msg)
	}
	for _, step := range []struct {
		group string
		join  bool
	}{{"g0", true}, {"g1", false}, {"one-more", true}} {
		if errName, msg := s.e.clientJoinLeave(c, step.group, step.join); errName != "" {
			t.Errorf("join=%v %s: %s %s", step.join, step.group, errName, msg)
		}
	}
}
